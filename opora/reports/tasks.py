"""Periodic work of the reports: on the 1st, the drafts of the previous month's forms; the stored
figures of the months changed since they were counted, and nightly all of them anew."""

from __future__ import annotations

import datetime as dt

from celery import shared_task


@shared_task(name="opora.reports.tasks.draft_monthly_reports")
def draft_monthly_reports(now: dt.datetime | None = None) -> list[int]:
    """Draft (or refresh the drafts of) the four forms of the previous month; idempotent, so the
    beat may fire it more than once on the 1st and a signed report is never touched."""
    from opora.reports.services import reports_draft_previous_month

    return reports_draft_previous_month(now=now)


@shared_task(name="opora.reports.tasks.refresh_report_figures")
def refresh_report_figures() -> int:
    """Every few minutes: the stored months marked changed since they were counted, recounted
    (a report reads a month that is not clean live anyway: this keeps the next one fast)."""
    from opora.reports.rollup import refresh_due

    return refresh_due()


@shared_task(name="opora.reports.tasks.rebuild_report_figures")
def rebuild_report_figures() -> int:
    """Nightly: every month's stored figures anew (catches a bulk update, which marks nothing)."""
    from opora.reports.rollup import rebuild

    return len(rebuild())
