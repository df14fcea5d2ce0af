"""Demo data of the messengers app (synthetic): a Telegram bot and one conversation."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from opora.messengers.models import ChannelAccount, Conversation, ConversationMessage


def demo_messengers(service: Any) -> ChannelAccount:
    """A Telegram bot of `service` with a placeholder token, and a conversation waiting for an
    answer. Idempotent: running the demo twice changes nothing."""
    account, _created = ChannelAccount.objects.get_or_create(
        channel="telegram",
        slug=f"{service.code}-bot",
        defaults={
            "service": service,
            "name": service.name[:100],
            "token": "env:OPORA_DEMO_TELEGRAM_TOKEN",
            "webhook_secret": "demo-webhook-secret",
        },
    )
    conversation, created = Conversation.objects.get_or_create(
        account=account,
        external_chat_id="100000001",
        defaults={
            "external_user_id": "100000001",
            "display_name": "Демо Клиент",
            "language": "ru",
            "awaiting_reply_since": timezone.now(),
            "last_message_at": timezone.now(),
        },
    )
    if created:
        ConversationMessage.objects.create(
            conversation=conversation,
            direction=ConversationMessage.Direction.IN,
            text="Здравствуйте! Подскажите, как подготовиться к первой консультации?",
        )
    return account
