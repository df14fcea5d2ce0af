"""Reports in the admin: read-only (the chain's writes go through opora.reports.services)."""

from django.contrib import admin

from opora.core.admin_base import ReadOnlyAdmin
from opora.reports.models import Report


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = [
        "kind",
        "month",
        "version",
        "service",
        "organisation_from",
        "organisation_to",
        "state",
    ]
    list_filter = ["kind", "state", "service"]
    exclude = ["figures"]
