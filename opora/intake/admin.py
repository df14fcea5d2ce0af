"""Read-only admin for clients and requests.

Requests change only through the intake services (checks, audit, notifications), so nothing is
editable here. Lists show no names, IINs or phones; opening a client or a request is audited.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from opora.accounts.models import User
from opora.core.admin_base import AuditedAdmin, PersonalDataAdmin
from opora.core.audit import AuditEventType
from opora.core.errors import DomainError
from opora.intake.models import Child, Client, Referral, ServiceRequest
from opora.intake.selectors import request_get_for_view
from opora.intake.services import REFERRAL_FIELDS


class ChildInline(admin.TabularInline):
    model = Child
    extra = 0
    fields = ("iin", "full_name", "birth_date")
    readonly_fields = ("iin", "full_name", "birth_date")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Client)
class ClientAdmin(PersonalDataAdmin):
    viewed_event = AuditEventType.INTAKE_CLIENT_VIEWED
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
    viewed_event = AuditEventType.REQUEST_VIEWED

    def record_view(self, request: HttpRequest, obj: Any) -> None:
        """The same read as the operator's page and the API: through the selector that audits it
        (`request.viewed`, via "admin"). An administrator outside the intake roles (a superuser
        is inside) is recorded under the same name."""
        assert isinstance(request.user, User)  # the admin is signed in
        try:
            request_get_for_view(actor=request.user, pk=obj.pk, via="admin")
        except DomainError:
            super().record_view(request, obj)

    list_display = ["id", "service", "status", "kind", "channel", "refusal_ground", "created_at"]
    list_filter = ["service", "status", "kind", "channel", "refusal_ground"]
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
        "kind",
        "referral",
        "counted_with",
        "is_anonymous",
        "public_code",
        "assigned_to",
        "eligibility_check",
        "created_by",
        "created_at",
        "updated_at",
    ]


@admin.register(Referral)
class ReferralAdmin(AuditedAdmin):
    """Read-only here: the head edits the directory on its own page (audited through services)."""

    list_display = ["name", "country", "region", "is_active", "updated_at"]
    list_filter = ["country", "is_active", "region"]
    search_fields = ["name", "helps_with"]
    readonly_fields = [*REFERRAL_FIELDS, "created_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
