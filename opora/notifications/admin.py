from django.contrib import admin

from opora.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "channel", "status", "attempts", "sent_at"]
    list_filter = ["channel", "status", "kind"]
    readonly_fields = [f.name for f in Notification._meta.fields]
