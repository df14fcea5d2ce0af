from django.contrib import admin

from opora.core.admin_base import AuditedAdmin
from opora.notifications.models import Notification, Reminder, ShortLink


@admin.register(Notification)
class NotificationAdmin(AuditedAdmin):
    list_display = ["created_at", "kind", "channel", "status", "attempts", "sent_at"]
    list_filter = ["channel", "status", "kind"]
    readonly_fields = [f.name for f in Notification._meta.fields]


@admin.register(Reminder)
class ReminderAdmin(AuditedAdmin):
    list_display = ["created_at", "kind", "subject_type", "subject_id"]
    list_filter = ["kind"]
    readonly_fields = [f.name for f in Reminder._meta.fields]


@admin.register(ShortLink)
class ShortLinkAdmin(AuditedAdmin):
    # The code is a bearer link to a private page: shown to no one, searchable by no one.
    list_display = ["created_at", "expires_at", "target_type", "target_id"]
    list_filter = ["target_type"]
    exclude = ["code"]
    readonly_fields = ["target_type", "target_id", "path", "created_at", "expires_at"]

    def has_add_permission(self, request: object) -> bool:
        return False
