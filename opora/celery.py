"""Celery application. The embedded default runs tasks eagerly (no server); production uses Redis."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opora.settings.local")

app = Celery("opora")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
