"""Admin for staff users (role, organisation, services) and a read-only view of API tokens."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice

from opora.accounts.models import ApiToken, ResponsiblePerson, User
from opora.accounts.policy import Action, can
from opora.accounts.services import api_token_revoke
from opora.core.admin_base import AuditedAdmin, AuditedAdminMixin
from opora.core.models import AuditEvent

# Recovery codes are the member's own (made and shown once on their account page); an administrator
# resetting a lost second factor deletes the authenticator (TOTP device) as before.
if admin.site.is_registered(StaticDevice):
    admin.site.unregister(StaticDevice)


@admin.register(User)
class StaffAdmin(AuditedAdminMixin, UserAdmin):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("last_name", "first_name", "patronymic", "email")}),
        (
            _("Work"),
            {
                "fields": (
                    "role",
                    "specialty",
                    "specialties",
                    "languages",
                    "organisation",
                    "services",
                    "current_service",
                )
            },
        ),
        (
            _("Permissions"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ),
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2"),
            },
        ),
        (
            _("Work"),
            {
                "fields": (
                    "last_name",
                    "first_name",
                    "patronymic",
                    "role",
                    "specialty",
                    "organisation",
                )
            },
        ),
    )
    list_display = ("username", "last_name", "first_name", "role", "organisation", "is_active")
    list_filter = ("role", "organisation", "is_active", "is_staff", "is_superuser")
    search_fields = ("username", "last_name", "first_name", "patronymic", "email")
    filter_horizontal = ("services", "specialties", "languages", "groups", "user_permissions")
    # Chosen by the staff member in the page header (audited there), shown here for support.
    readonly_fields = ("current_service",)
    list_select_related = ("organisation",)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple:
        """A staff member named by audit events is never deleted (the events' actor is PROTECT):
        say so in one line and what to do instead, rather than listing every event."""
        deleted, counts, perms, protected = super().get_deleted_objects(objs, request)
        users = [o.pk for o in objs]
        events = AuditEvent.objects.filter(actor_id__in=users).count()
        if events:
            # Not "you lack the permission to delete audit events": nobody has it.
            perms = set()
            protected = [
                ngettext(
                    "%(count)d audit event names this staff member. Staff are not deleted while "
                    "their events are kept: deactivate the account instead (untick “Active”).",
                    "%(count)d audit events name these staff members. Staff are not deleted while "
                    "their events are kept: deactivate the accounts instead (untick “Active”).",
                    events,
                )
                % {"count": events}
            ]
        return deleted, counts, perms, protected

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        """The password page saves its own form, past save_model: audited here (the field's
        name, never the value)."""
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = self.get_object(request, id)
            if user is not None:
                self._audit(request, self.changed_event, user, ["password"])
        return response


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    """Tokens are issued by `opora create_api_token`; here they can be seen and revoked only."""

    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username", "name", "prefix")
    list_select_related = ("user",)
    fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        # Revoked tokens stay for the audit trail.
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return can(request.user, Action.ADMIN_SITE) and request.user.has_perm(
            "accounts.change_apitoken"
        )

    @admin.action(description=_("Revoke selected tokens"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = 0
        assert isinstance(request.user, User)  # the admin is signed in
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(token=token, actor=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(ResponsiblePerson)
class ResponsiblePersonAdmin(AuditedAdmin):
    """The register of regulation 001 §10, read-only: a change is recorded on the staff page
    (`/responsible/`), which closes the current row and notifies the other side."""

    list_display = ("service", "side", "full_name", "valid_from", "valid_to", "is_late")
    list_filter = ("side", "is_late", "service")
    list_select_related = ("service",)
    readonly_fields = (
        "service",
        "side",
        "organisation",
        "full_name",
        "position",
        "phone",
        "email",
        "valid_from",
        "valid_to",
        "recorded_at",
        "recorded_by",
        "is_late",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: ResponsiblePerson | None = None
    ) -> bool:
        return False
