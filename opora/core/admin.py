from typing import Any

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import Group
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp import admin as totp_admin
from django_otp.plugins.otp_totp.models import TOTPDevice

from opora.core.admin_base import AuditedAdmin, audited
from opora.core.models import (
    SERVICE_TEXT_FIELDS,
    SERVICE_TEXT_LANGUAGES,
    AuditEvent,
    CalendarOverride,
    Organisation,
    Region,
    Service,
)

admin.site.site_header = _("Opora administration")
admin.site.site_title = _("Opora administration")
admin.site.index_title = _("Sections")

# The third-party admins (groups, two-factor devices, sign-in lockouts) write too: registered again
# with their saves and deletes audited, like every Opora admin. Their apps come before this one in
# INSTALLED_APPS, so their own registrations are already made; the imports above make sure.
for _model, _admin_class in [
    (Group, auth_admin.GroupAdmin),
    (TOTPDevice, totp_admin.TOTPDeviceAdmin),
    (AccessAttempt, axes_admin.AccessAttemptAdmin),
    (AccessLog, axes_admin.AccessLogAdmin),
    (AccessFailureLog, axes_admin.AccessFailureLogAdmin),
]:
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, audited(_admin_class))


@admin.register(Region)
class RegionAdmin(AuditedAdmin):
    list_display = ["code", "name_ru", "country", "kind"]
    list_filter = ["country", "kind"]
    search_fields = ["code", "name_ru", "name_kk", "name_en"]


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin):
    list_display = ["name", "short_name", "kind", "country"]
    list_filter = ["kind", "country"]
    search_fields = ["name", "short_name"]


class CalendarOverrideInline(admin.TabularInline):
    model = CalendarOverride
    extra = 0


@admin.register(Service)
class ServiceAdmin(AuditedAdmin):
    list_display = ["code", "name", "country", "time_zone", "eligibility_rule", "is_active"]
    list_filter = ["country", "is_active"]
    search_fields = ["code", "name", "name_kk", "name_en"]
    inlines = [CalendarOverrideInline]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list:
        # The Kazakh and English texts in a section of their own, each beside its language.
        translated = [f"{f}_{lang}" for lang in SERVICE_TEXT_LANGUAGES for f in SERVICE_TEXT_FIELDS]
        main = [f for f in self.get_fields(request, obj) if f not in translated]
        return [
            (None, {"fields": main}),
            (_("Texts in Kazakh"), {"fields": [f"{f}_kk" for f in SERVICE_TEXT_FIELDS]}),
            (_("Texts in English"), {"fields": [f"{f}_en" for f in SERVICE_TEXT_FIELDS]}),
        ]


@admin.register(AuditEvent)
class AuditEventAdmin(AuditedAdmin):
    list_display = ["seq", "created_at", "event_type", "subject_type", "subject_id", "actor_label"]
    list_filter = ["event_type", "subject_type"]
    search_fields = ["actor_label", "subject_id"]
    date_hierarchy = "created_at"

    # The audit log is append-only, even for administrators.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
