"""How notifications reach a client's messenger: a sender and a contact resolver, registered with
`opora.notifications.channels` from MessengersConfig.ready (notifications imports nothing here)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from opora.messengers.adapters import Button, SendError
from opora.messengers.models import Conversation, MessengerChannel, OutgoingChatMessage
from opora.messengers.services import outbound_enqueue, outbound_send


def _public(url: str) -> bool:
    # Telegram refuses link buttons to a loopback address (a demo on one machine): text only.
    host = urlsplit(url).hostname or ""
    return bool(host) and host != "localhost" and not host.startswith("127.")


def send_notification(notification: Any) -> str:
    """Deliver a Notification whose recipient is a conversation id, through the outbound queue.

    The outbound row is keyed by the notification, so a retried delivery reuses it and a message
    already sent is not sent again. Raises when the provider did not take it: the notification is
    then retried by the one outbox.
    """
    conversation = Conversation.objects.select_related("account").get(
        pk=int(notification.recipient)
    )
    if conversation.account.channel != notification.channel:
        raise ValueError("the conversation is of another channel")
    # The notice's link as a button where the channel has link buttons (Telegram); elsewhere
    # the link is in the text.
    buttons = None
    if (
        notification.action_url
        and notification.channel == MessengerChannel.TELEGRAM
        and _public(notification.action_url)
    ):
        label = notification.action_label or notification.action_url
        buttons = [[Button(text=label, url=notification.action_url)]]
    message = outbound_enqueue(
        conversation=conversation,
        text=notification.body,
        buttons=buttons,
        key=f"notification:{notification.pk}",
        dispatch=False,
    )
    message = outbound_send(message_id=message.pk)
    if message.status != OutgoingChatMessage.Status.SENT:
        # The chat message has its own row in the one outbox and is retried there; the notice
        # waits for it, and gives up only when the chat message has.
        raise SendError(
            message.last_error or message.status,
            retryable=message.status != OutgoingChatMessage.Status.FAILED,
        )
    return message.external_id


def _request_id(subject_type: str, subject_id: str) -> int | None:
    from opora.consultations.models import Consultation
    from opora.scheduling.models import Booking

    try:
        pk = int(subject_id)
    except (TypeError, ValueError):
        return None
    if subject_type == "intake.servicerequest":
        return pk
    if subject_type == "scheduling.booking":
        return Booking.objects.filter(pk=pk).values_list("request_id", flat=True).first()
    if subject_type == "consultations.consultation":
        return (
            Consultation.objects.filter(pk=pk).values_list("booking__request_id", flat=True).first()
        )
    return None


def client_conversations(
    subject_type: str,
    subject_id: str,
    *,
    recipient: str | None,
    kind: str,
    hint: dict | None = None,
) -> list[tuple[str, str]]:
    """The client's conversations for a notice about a request, its booking or consultation.

    With `recipient`, only when it is the request's own phone or e-mail (never a staff address).
    Reminders go only to conversations that have them on.
    """
    from django.db.models import Q

    from opora.intake.models import ServiceRequest

    if hint and recipient is None and "request_id" in hint:
        # The caller holds the request already (the booking path): no lookups of our own.
        request_id, client_id = hint["request_id"], hint.get("client_id")
    else:
        request_id = _request_id(subject_type, subject_id)
        if request_id is None:
            return []
        request = (
            ServiceRequest.objects.filter(pk=request_id).only("phone", "email", "client").first()
        )
        if request is None:
            return []
        if recipient is not None and recipient not in {
            c for c in (request.phone, request.email) if c
        }:
            return []
        client_id = request.client_id
    match = Q(request_id=request_id)
    if client_id:
        match |= Q(client_id=client_id)
    conversations = Conversation.objects.filter(match, account__is_active=True)
    if kind.startswith("reminder"):
        conversations = conversations.filter(reminders_enabled=True)
    # Runs inside every booking: plain values, no model instances.
    return [
        (channel, str(pk))
        for channel, pk in conversations.order_by("pk").values_list("account__channel", "pk")
    ]


def register() -> None:
    from opora.notifications import channels

    for channel in MessengerChannel.values:
        channels.register(channel, send_notification)
    channels.register_contacts(client_conversations)
