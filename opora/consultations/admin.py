from django.contrib import admin

from opora.consultations.models import Consultation


@admin.register(Consultation)
class ConsultationAdmin(admin.ModelAdmin):
    # No chat text and no token here: the chat is part of the client's record.
    list_display = ["id", "booking", "status", "mode", "started_at", "ended_at"]
    list_filter = ["status", "mode"]
    readonly_fields = ["booking", "status", "mode", "recording_consent", "started_at", "ended_at"]
    exclude = ["client_token", "client_channel", "client_sid", "consultant_channel"]

    def has_add_permission(self, request: object) -> bool:
        return False
