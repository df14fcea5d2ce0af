"""Periodic work of the journals: the late-booking sweep, the dashboards' roll-up."""

from __future__ import annotations

from celery import shared_task


@shared_task
def alert_late_bookings() -> int:
    """Every 30 minutes: tell the heads once about each request booked past day 10."""
    from opora.journals.alerts import late_booking_alert

    return late_booking_alert()


@shared_task
def refresh_rollups() -> int:
    """Every 5 minutes: recount the dashboards' roll-up for the days changed and the last days."""
    from opora.journals.rollups import refresh_due

    return refresh_due()


@shared_task
def rebuild_rollups() -> int:
    """Nightly: the dashboards' roll-up anew (catches a bulk update, which marks no day)."""
    from opora.journals.rollups import rebuild

    return rebuild()
