"""Periodic work of events: reminders the day and the hour before (each stored once)."""

from __future__ import annotations

from celery import shared_task

from opora.events import services


@shared_task
def send_event_reminders() -> int:
    return services.reminders_send_due()
