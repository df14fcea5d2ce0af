from django.contrib import admin

from opora.consultations.models import Consultation, Recording, RecordingAccess
from opora.core.admin_base import AuditedAdmin


@admin.register(Consultation)
class ConsultationAdmin(AuditedAdmin):
    # No chat text and no token here: the chat is part of the client's record.
    list_display = ["id", "booking", "status", "mode", "started_at", "ended_at"]
    list_filter = ["status", "mode"]
    readonly_fields = ["booking", "status", "mode", "recording_consent", "started_at", "ended_at"]
    exclude = ["client_token", "client_channel", "client_sid", "consultant_channel"]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Recording)
class RecordingAdmin(AuditedAdmin):
    # Metadata only: the media is downloaded on the head's page, which asks for the reason and
    # logs the access; keys and storage paths never show here.
    list_display = ["id", "consultation", "status", "policy", "started_at", "chunk_count", "size"]
    list_filter = ["status", "policy"]
    exclude = ["wrapped_key", "storage_path", "key_id"]
    readonly_fields = [
        "consultation",
        "started_by",
        "policy",
        "status",
        "mime_type",
        "ended_at",
        "chunk_count",
        "size",
        "sha256",
    ]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(RecordingAccess)
class RecordingAccessAdmin(AuditedAdmin):
    list_display = ["id", "recording", "user", "kind", "at"]
    list_filter = ["kind"]
    readonly_fields = ["recording", "user", "kind", "reason"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
