"""The e-mail and messenger part of the raw-database test's flow (synthetic)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from opora.mail.services import inbound_store
from opora.mail.tests.factories import make_letter, make_mailbox
from opora.messengers.models import ChannelAccount, Conversation, ConversationMessage


def letter_and_messenger(
    *, service: Any, request: Any, sender: str, name: str, letter: str, message: str
) -> None:
    """A letter from the parent stored by the mail import, and a message in a Telegram chat."""
    mailbox = make_mailbox(service)
    raw = make_letter(sender=f"{name} <{sender}>", to=mailbox.from_address, body=letter)
    inbound_store(mailbox=mailbox, raw=raw.as_bytes())
    account = ChannelAccount.objects.create(
        channel="telegram", slug=f"{service.code}-raw", service=service, name="bot", token="t"
    )
    conversation = Conversation.objects.create(
        account=account,
        external_chat_id="555",
        display_name=name,
        last_message_at=timezone.now(),
    )
    ConversationMessage.objects.create(
        conversation=conversation, direction=ConversationMessage.Direction.IN, text=message
    )
