"""Periodic work of the journals: the late-booking sweep."""

from __future__ import annotations

from celery import shared_task


@shared_task
def alert_late_bookings() -> int:
    """Every 30 minutes: tell the heads once about each request booked past day 10."""
    from opora.journals.alerts import late_booking_alert

    return late_booking_alert()
