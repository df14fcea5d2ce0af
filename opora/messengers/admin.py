from django.contrib import admin

from opora.core.admin_base import AuditedAdmin, SecretFieldsForm
from opora.messengers.models import ChannelAccount, Conversation, InboundUpdate, OutgoingChatMessage


class ChannelAccountForm(SecretFieldsForm):
    """Tokens and secrets are never sent back to the browser; left empty, the stored ones stay."""

    secret_fields = ("token", "webhook_secret", "app_secret")
    required_secrets = ("token",)

    class Meta:
        model = ChannelAccount
        fields = "__all__"


@admin.register(ChannelAccount)
class ChannelAccountAdmin(AuditedAdmin):
    form = ChannelAccountForm
    list_display = ["slug", "channel", "service", "name", "is_active"]
    list_filter = ["channel", "is_active"]


@admin.register(Conversation)
class ConversationAdmin(AuditedAdmin):
    list_display = ["pk", "account", "request", "state", "awaiting_reply_since", "last_message_at"]
    list_filter = ["account__channel"]
    # The chat itself is read on the consultant's page (audited), not here.
    exclude = ["draft"]
    readonly_fields = [
        f.name for f in Conversation._meta.fields if f.name not in ("draft", "reminders_enabled")
    ]


@admin.register(InboundUpdate)
class InboundUpdateAdmin(AuditedAdmin):
    list_display = ["pk", "account", "external_id", "status", "attempts", "received_at"]
    list_filter = ["status", "account__channel"]
    exclude = ["payload"]
    readonly_fields = [f.name for f in InboundUpdate._meta.fields if f.name != "payload"]


@admin.register(OutgoingChatMessage)
class OutgoingChatMessageAdmin(AuditedAdmin):
    list_display = ["pk", "account", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status", "account__channel"]
    exclude = ["text", "buttons"]
    readonly_fields = [
        f.name for f in OutgoingChatMessage._meta.fields if f.name not in ("text", "buttons")
    ]
