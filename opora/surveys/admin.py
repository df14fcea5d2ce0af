from django.contrib import admin

from opora.core.admin_base import AuditedAdmin
from opora.surveys.models import Instrument


@admin.register(Instrument)
class InstrumentAdmin(AuditedAdmin):
    # Definitions are edited on the coordinator's page (a new version each time, validated);
    # responses and results are a client's record and are read on the consultant's pages only.
    list_display = ["code", "name", "is_public", "is_active"]
    list_filter = ["is_public", "is_active"]
    readonly_fields = ["code"]

    def has_add_permission(self, request: object) -> bool:
        return False
