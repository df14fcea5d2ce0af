from django.contrib import admin

from opora.notifications.models import Notification, Reminder


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "channel", "status", "attempts", "sent_at"]
    list_filter = ["channel", "status", "kind"]
    readonly_fields = [f.name for f in Notification._meta.fields]


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "subject_type", "subject_id"]
    list_filter = ["kind"]
    readonly_fields = [f.name for f in Reminder._meta.fields]
