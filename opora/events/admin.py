from django.contrib import admin

from opora.core.admin_base import AuditedAdminMixin
from opora.events.models import Certificate, Event, EventPolicy, Registration


@admin.register(EventPolicy)
class EventPolicyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("service", "certificate_min_share", "allows_anonymous")


@admin.register(Event)
class EventAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "service", "kind", "title_ru", "starts_at", "capacity", "state")
    list_filter = ("kind", "state", "service")
    filter_horizontal = ("presenters",)


@admin.register(Registration)
class RegistrationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    # No names or contacts in the list: the registration's page shows them to whom may see them.
    list_display = ("pk", "event", "status", "waiting_position", "created_at")
    list_filter = ("status",)
    readonly_fields = ("code", "token", "contact")


@admin.register(Certificate)
class CertificateAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "event_date", "hours")
    readonly_fields = ("code",)
