"""The row locks of reports, in one place (every `select_for_update` of the app is here)."""

from __future__ import annotations

from django.db.models import QuerySet

from opora.reports.models import Report


def report_qs_select_for_update() -> QuerySet[Report]:
    """Only the report's own row: its service and organisations stay free."""
    return Report.objects.select_for_update(of=("self",)).select_related(
        "service", "organisation_from", "organisation_to"
    )
