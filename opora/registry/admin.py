"""Read-only admin for the registry: records, imports and eligibility checks.

Records come only from imports (`opora import_registry`), checks only from the operator's work, so
nothing here is editable. Lists show no IINs or names; opening a record with personal data is audited.
"""

from typing import Any

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from opora.core.admin_base import PersonalDataAdmin, ReadOnlyAdmin
from opora.core.audit import AuditEventType
from opora.core.crypto import blind_indexes
from opora.registry.models import EligibilityCheck, ImportRun, RegistryRecord


@admin.register(RegistryRecord)
class RegistryRecordAdmin(PersonalDataAdmin):
    viewed_event = AuditEventType.REGISTRY_RECORD_VIEWED
    list_display = ["id", "source", "status", "category", "valid_until", "updated_at"]
    list_filter = ["source", "status"]
    # Exact match only: an IIN prefix search would let anyone browse the registry.
    search_fields = ["=iin_bidx"]  # answered by get_search_results: the IIN is sealed at rest
    search_help_text = _("Exact IIN of the person or the child.")
    show_full_result_count = False

    def get_search_results(self, request: Any, queryset: Any, search_term: str) -> Any:
        term = search_term.strip()
        if not term:
            return queryset, False
        hashes = blind_indexes("iin", term)
        return queryset.filter(Q(iin_bidx__in=hashes) | Q(child_iin_bidx__in=hashes)), False

    readonly_fields = [
        "source",
        "iin",
        "child_iin",
        "last_name",
        "first_name",
        "patronymic",
        "relation",
        "status",
        "birth_date",
        "category",
        "valid_until",
        "updated_at",
    ]


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "source",
        "file_name",
        "status",
        "started_at",
        "finished_at",
        "rows_read",
        "rows_loaded",
        "rows_rejected",
    ]
    list_filter = ["source", "status"]
    readonly_fields = [
        "source",
        "file_name",
        "status",
        "started_at",
        "finished_at",
        "rows_read",
        "rows_loaded",
        "rows_rejected",
        "errors",
        "actor",
    ]


@admin.register(EligibilityCheck)
class EligibilityCheckAdmin(PersonalDataAdmin):
    viewed_event = AuditEventType.REGISTRY_ELIGIBILITY_CHECK_VIEWED
    list_display = ["id", "created_at", "service", "actor", "eligible", "reason"]
    list_filter = ["eligible", "reason", "service"]
    list_select_related = ["service", "actor"]
    search_fields = ["=iin"]
    search_help_text = _("Exact IIN.")
    date_hierarchy = "created_at"
    readonly_fields = [
        "created_at",
        "service",
        "actor",
        "iin",
        "full_name",
        "eligible",
        "reason",
        "matched_record",
        "child_iin",
    ]
