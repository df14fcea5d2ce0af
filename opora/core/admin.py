from django.contrib import admin

from opora.core.models import AuditEvent, CalendarOverride, Organisation, Region, Service


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name_ru", "country", "kind"]
    list_filter = ["country", "kind"]
    search_fields = ["code", "name_ru", "name_kk", "name_en"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "kind", "country"]
    list_filter = ["kind", "country"]
    search_fields = ["name", "short_name"]


class CalendarOverrideInline(admin.TabularInline):
    model = CalendarOverride
    extra = 0


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "country", "time_zone", "eligibility_rule", "is_active"]
    list_filter = ["country", "is_active"]
    search_fields = ["code", "name"]
    inlines = [CalendarOverrideInline]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event_type", "subject_type", "subject_id", "actor"]
    list_filter = ["event_type", "subject_type"]
    date_hierarchy = "created_at"

    # The audit log is append-only, even for administrators.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
