"""Periodic work of events: reminders the day and the hour before (each stored once); closing
the room recordings a closed tab left running."""

from __future__ import annotations

from celery import shared_task

from opora.events import recording, services


@shared_task
def send_event_reminders() -> int:
    return services.reminders_send_due()


@shared_task
def close_abandoned_event_recordings() -> int:
    return recording.event_recordings_close_abandoned()
