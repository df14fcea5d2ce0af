"""Writes of the messengers app: store inbound updates, process them, queue and send replies.

Inbound: the webhook stores each update (unique per account and external id) and answers 200;
processing runs after commit from the stored row, in one transaction per update, so a retried
delivery or a re-run changes nothing twice. Outbound: a queued row first; the send takes the row
lock, so two workers never send the same message; failures back off exponentially.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.accounts.models import Role
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError, PermissionDenied
from opora.messengers.adapters import Button, InboundMessage, SendError, get_adapter
from opora.messengers.models import (
    ChannelAccount,
    Conversation,
    ConversationMessage,
    InboundUpdate,
    OutboundMessage,
)

logger = logging.getLogger("opora.messengers")

MAX_SEND_ATTEMPTS = 8
MAX_PROCESS_ATTEMPTS = 5
REPLY_MAX_CHARS = 4000
REPLY_ROLES = (Role.CONSULTANT, Role.HEAD, Role.ADMIN)


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, ... up to an hour after the n-th failed attempt."""
    return dt.timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


# --- inbound ----------------------------------------------------------------------------------


@transaction.atomic
def inbound_store(
    *, account: ChannelAccount, messages: Sequence[InboundMessage]
) -> list[InboundUpdate]:
    """Store the messages of one webhook call; a delivery seen before is skipped (DB unique key).

    Returns the newly stored updates; each is processed by a task after commit.
    """
    from opora.messengers.tasks import process_inbound

    stored = []
    for message in messages:
        update = InboundUpdate(
            account=account, external_id=message.external_id[:128], payload=message.as_dict()
        )
        try:
            with transaction.atomic():
                update.save()
        except IntegrityError:
            continue  # the provider retried a delivery we already hold
        stored.append(update)
    for update in stored:
        transaction.on_commit(lambda pk=update.pk: process_inbound.delay(pk))
    return stored


def _conversation_for(account: ChannelAccount, message: InboundMessage) -> Conversation:
    conversation = (
        Conversation.objects.select_for_update()
        .filter(account=account, external_chat_id=message.chat_id)
        .first()
    )
    if conversation is None:
        try:
            with transaction.atomic():
                conversation = Conversation.objects.create(
                    account=account,
                    external_chat_id=message.chat_id[:64],
                    external_user_id=message.user_id[:64],
                    display_name=message.display_name[:200],
                    language=_language(message.language),
                )
        except IntegrityError:
            conversation = Conversation.objects.select_for_update().get(
                account=account, external_chat_id=message.chat_id
            )
    changed = []
    if message.display_name and conversation.display_name != message.display_name[:200]:
        conversation.display_name = message.display_name[:200]
        changed.append("display_name")
    language = _language(message.language)
    if language and conversation.language != language:
        conversation.language = language
        changed.append("language")
    if changed:
        conversation.save(update_fields=changed)
    return conversation


def _language(code: str) -> str:
    code = (code or "").lower()[:2]
    return code if code in ("ru", "kk", "en") else ""


def inbound_process(*, update_id: int) -> InboundUpdate:
    """Process one stored update: add it to the conversation's history and run the bot.

    One transaction: the history line, any request the bot creates and the queued replies are
    written together with the update's `processed` mark, so a retried task does nothing twice.
    """
    from opora.messengers.bot import bot_handle

    try:
        with transaction.atomic():
            update = (
                InboundUpdate.objects.select_for_update()
                .select_related("account__service")
                .get(pk=update_id)
            )
            if update.status == InboundUpdate.Status.PROCESSED:
                return update
            message = InboundMessage.from_dict(update.payload)
            conversation = _conversation_for(update.account, message)
            ConversationMessage.objects.create(
                conversation=conversation,
                direction=ConversationMessage.Direction.IN,
                text=message.text[:REPLY_MAX_CHARS],
                attachments=message.attachments,
                inbound_update=update,
            )
            conversation.last_message_at = timezone.now()
            conversation.save(update_fields=["last_message_at"])
            bot_handle(conversation=conversation, message=message, update=update)
            update.conversation = conversation
            update.status = InboundUpdate.Status.PROCESSED
            update.processed_at = timezone.now()
            update.attempts += 1
            update.error = ""
            update.save(
                update_fields=["conversation", "status", "processed_at", "attempts", "error"]
            )
            return update
    except Exception as exc:
        # Rolled back as a whole; record the failure (no content) so the sweep retries it.
        logger.exception("messengers: inbound %s failed: %s", update_id, type(exc).__name__)
        InboundUpdate.objects.filter(pk=update_id).exclude(
            status=InboundUpdate.Status.PROCESSED
        ).update(
            status=InboundUpdate.Status.FAILED,
            error=type(exc).__name__[:200],
            attempts=F("attempts") + 1,
        )
        return InboundUpdate.objects.get(pk=update_id)


# --- outbound ---------------------------------------------------------------------------------


def _buttons_json(buttons: Sequence[Sequence[Button]] | None) -> list[list[dict[str, Any]]]:
    return [
        [
            {
                "text": b.text,
                "request_contact": b.request_contact,
                **({"url": b.url} if b.url else {}),
            }
            for b in row
        ]
        for row in buttons or []
    ]


def _buttons(data: list[list[dict[str, Any]]]) -> list[list[Button]]:
    return [[Button(**b) for b in row] for row in data or []]


@transaction.atomic(savepoint=False)
def outbound_enqueue(
    *,
    conversation: Conversation,
    text: str,
    buttons: Sequence[Sequence[Button]] | None = None,
    key: str = "",
    author: Any = None,
    dispatch: bool = True,
) -> OutboundMessage:
    """Queue a message to the conversation's chat and record it in the history; it is sent by a
    task after commit (unless `dispatch` is False: the caller sends it itself). The same `key`
    queues it once (a retried caller gets the first row)."""
    from opora.messengers.tasks import send_outbound

    key = (key or f"msg:{uuid.uuid4()}")[:200]
    existing = OutboundMessage.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    message = OutboundMessage(
        account=conversation.account,
        conversation=conversation,
        text=text[:REPLY_MAX_CHARS],
        buttons=_buttons_json(buttons),
        idempotency_key=key,
    )
    message.full_clean(exclude=["account", "conversation"], validate_unique=False)
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        return OutboundMessage.objects.get(idempotency_key=key)
    ConversationMessage.objects.create(
        conversation=conversation,
        direction=ConversationMessage.Direction.OUT,
        text=message.text,
        outbound=message,
        author=author if getattr(author, "pk", None) else None,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=timezone.now())
    if dispatch:
        transaction.on_commit(lambda: send_outbound.delay(message.pk))
    return message


def outbound_send(*, message_id: int) -> OutboundMessage:
    """Send one queued message. Idempotent: a sent (or given-up) message is not sent again.

    The row lock is held during the provider call, so a concurrent worker waits and then sees it
    sent. A crash after the provider took the message but before our commit can still repeat it
    once (at least once); VK drops such a repeat by random_id.
    """
    with transaction.atomic():
        m = (
            OutboundMessage.objects.select_for_update()
            .select_related("account", "conversation")
            .get(pk=message_id)
        )
        if m.status in (OutboundMessage.Status.SENT, OutboundMessage.Status.DEAD):
            return m
        m.attempts += 1
        adapter = get_adapter(m.account)
        try:
            external_id = adapter.send_text(
                chat_id=m.conversation.external_chat_id,
                text=m.text,
                buttons=_buttons(m.buttons),
                idempotency_key=m.idempotency_key,
            )
        except SendError as exc:
            m.error = exc.reason[:200]
            if exc.retryable and m.attempts < MAX_SEND_ATTEMPTS:
                m.status = OutboundMessage.Status.FAILED
                m.next_attempt_at = timezone.now() + backoff(m.attempts)
            else:
                m.status = OutboundMessage.Status.DEAD
                m.next_attempt_at = None
            logger.warning(
                "messengers: outbound %s to %s failed (%s), attempt %d",
                m.pk,
                m.account.channel,
                m.error,
                m.attempts,
            )
        else:
            m.status = OutboundMessage.Status.SENT
            m.external_id = external_id[:128]
            m.sent_at = timezone.now()
            m.next_attempt_at = None
            m.error = ""
        m.save(
            update_fields=[
                "status",
                "attempts",
                "error",
                "external_id",
                "sent_at",
                "next_attempt_at",
            ]
        )
        return m


def outbox_retry_due(*, now: dt.datetime | None = None, stuck_after: int = 60) -> int:
    """Send what is due again: failed messages whose back-off has passed, and queued ones that no
    task picked up within `stuck_after` seconds (a lost broker message). Also re-runs inbound
    updates that failed or were never processed. Returns how many outbound sends were tried."""
    now = now or timezone.now()
    stuck = now - dt.timedelta(seconds=stuck_after)
    due = list(
        OutboundMessage.objects.filter(
            status=OutboundMessage.Status.FAILED, next_attempt_at__lte=now
        ).values_list("pk", flat=True)[:500]
    ) + list(
        OutboundMessage.objects.filter(
            status=OutboundMessage.Status.QUEUED, created_at__lte=stuck
        ).values_list("pk", flat=True)[:500]
    )
    for pk in due:
        outbound_send(message_id=pk)
    for pk in InboundUpdate.objects.filter(
        status__in=[InboundUpdate.Status.RECEIVED, InboundUpdate.Status.FAILED],
        received_at__lte=stuck,
        attempts__lt=MAX_PROCESS_ATTEMPTS,
    ).values_list("pk", flat=True)[:500]:
        inbound_process(update_id=pk)
    return len(due)


# --- consultant's replies ---------------------------------------------------------------------


def _require_staff(actor: Any, conversation: Conversation) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.has_role(*REPLY_ROLES):
        raise PermissionDenied(_("Only a consultant or the head may answer messenger messages."))
    if actor.is_superuser or actor.role == Role.ADMIN:
        return
    if not actor.services.filter(pk=conversation.account.service_id).exists():
        raise PermissionDenied(_("You do not work for this service."))


@transaction.atomic
def conversation_reply(*, actor: Any, conversation: Conversation, text: str) -> OutboundMessage:
    """A consultant's answer to a messenger conversation: queued, sent after commit."""
    _require_staff(actor, conversation)
    text = (text or "").strip()
    if not text:
        raise DomainError(_("Write the answer before sending it."), code="empty")
    if len(text) > REPLY_MAX_CHARS:
        raise DomainError(
            _("The answer is too long (at most %(max)d characters).") % {"max": REPLY_MAX_CHARS},
            code="too_long",
        )
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    message = outbound_enqueue(conversation=conversation, text=text, author=actor)
    conversation.awaiting_reply_since = None
    conversation.save(update_fields=["awaiting_reply_since"])
    audit_record(
        actor=actor,
        event_type=AuditEventType.MESSENGERS_REPLY_SENT,
        subject=conversation,
        extra={"outbound_id": message.pk, "channel": conversation.account.channel},
    )
    return message
