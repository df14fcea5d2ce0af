from django.contrib import admin

from opora.complaints.models import ComplaintSettings
from opora.core.admin_base import AuditedAdminMixin


@admin.register(ComplaintSettings)
class ComplaintSettingsAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Each service's deadline (working or calendar days) and whether anonymous complaints are
    taken. Complaints themselves are handled on their staff pages, not here."""

    list_display = ("service", "answer_days", "working_days", "allows_anonymous")
