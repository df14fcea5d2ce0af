"""URLs of the mail app."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
