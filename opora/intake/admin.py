"""Read-only admin for clients and requests.

Requests change only through the intake services (checks, audit, notifications), so nothing is
editable here. Lists show no names, IINs or phones; opening a client or a request is audited.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from opora.core.audit import audit_record
from opora.intake.models import Child, Client, ServiceRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PersonalDataAdmin(ReadOnlyAdmin):
    """Opening one object shows personal data: record the read in the audit log."""

    viewed_event = ""

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = self.get_object(request, object_id)
        if obj is not None and response.status_code == 200:
            audit_record(
                actor=request.user,
                event_type=self.viewed_event,
                subject=obj,
                extra={"via": "admin"},
            )
        return response


class ChildInline(admin.TabularInline):
    model = Child
    extra = 0
    fields = ["iin", "full_name", "birth_date"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Client)
class ClientAdmin(PersonalDataAdmin):
    viewed_event = "intake.client_viewed"
    list_display = ["id", "region", "created_at"]
    list_filter = ["region"]
    list_select_related = ["region"]
    search_fields = ["=iin"]
    search_help_text = _("Exact IIN.")
    inlines = [ChildInline]
    readonly_fields = [
        "last_name",
        "first_name",
        "patronymic",
        "iin",
        "phone",
        "phone_extra",
        "email",
        "region",
        "created_at",
    ]


@admin.register(ServiceRequest)
class ServiceRequestAdmin(PersonalDataAdmin):
    viewed_event = "intake.request_viewed"
    list_display = ["id", "service", "status", "channel", "refusal_ground", "created_at"]
    list_filter = ["service", "status", "channel", "refusal_ground"]
    list_select_related = ["service"]
    search_fields = ["=iin"]
    search_help_text = _("Exact IIN.")
    date_hierarchy = "created_at"
    readonly_fields = [
        "service",
        "client",
        "child",
        "full_name",
        "iin",
        "phone",
        "phone_extra",
        "email",
        "region",
        "desired_at",
        "reason",
        "channel",
        "status",
        "refusal_ground",
        "referral_text",
        "eligibility_check",
        "created_by",
        "created_at",
        "updated_at",
    ]
