"""The row locks of reports, in one place (every `select_for_update` of the app is here)."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import QuerySet

from opora.reports.models import Report


def report_qs_select_for_update() -> QuerySet[Report]:
    """Only the report's own row: its service and organisations stay free."""
    return Report.objects.select_for_update(of=("self",)).select_related(
        "service", "organisation_from", "organisation_to"
    )


def month_figures_lock(service_id: int, month: dt.date) -> None:
    """One writer at a time of a month's stored figures (`reports.rollup.recompute`): a
    transaction-level advisory lock on PostgreSQL (elsewhere the database serialises writers)."""
    if connection.vendor != "postgresql":
        return
    key = service_id * 100_000 + month.year * 12 + month.month
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x1411, key % 2_000_000_000])
