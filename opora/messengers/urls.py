"""URLs of the messengers app."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
