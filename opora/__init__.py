"""Opora: online support service for parents raising children with disabilities."""

from opora.celery import app as celery_app

__all__ = ["celery_app"]
