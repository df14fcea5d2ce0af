"""Periodic work of the reports: on the 1st, the drafts of the previous month's forms."""

from __future__ import annotations

import datetime as dt

from celery import shared_task


@shared_task(name="opora.reports.tasks.draft_monthly_reports")
def draft_monthly_reports(now: dt.datetime | None = None) -> list[int]:
    """Draft (or refresh the drafts of) the four forms of the previous month; idempotent, so the
    beat may fire it more than once on the 1st and a signed report is never touched."""
    from opora.reports.services import reports_draft_previous_month

    return reports_draft_previous_month(now=now)
