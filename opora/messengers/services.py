"""Writes of the messengers app: store inbound updates, process them, queue and send replies.

Inbound: the webhook stores each update (unique per account and external id) and answers 200;
processing runs after commit from the stored row, in one transaction per update, so a retried
delivery or a re-run changes nothing twice. Outbound: a queued row first, delivered by the one
outbox (notifications.outbox: one claim, one retry policy, one sweep) through `chat_send`.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from functools import partial
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.accounts import policy
from opora.accounts.actors import Actor
from opora.accounts.models import User
from opora.accounts.policy import Action
from opora.consultations.models import Consultation
from opora.consultations.services import consultation_close_written, consultation_take_written
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError, PermissionDenied
from opora.messengers.adapters import Button, InboundMessage, get_adapter
from opora.messengers.locks import conversation_select_for_update, inbound_update_select_for_update
from opora.messengers.models import (
    ChannelAccount,
    Conversation,
    ConversationMessage,
    InboundUpdate,
    OutgoingChatMessage,
)
from opora.messengers.reply_files import read_reply_file, reply_file_url, save_reply_file
from opora.notifications.dispatch import deliver_after_commit
from opora.notifications.outbox import label_of, outbox_deliver

logger = logging.getLogger("opora.messengers")

MAX_PROCESS_ATTEMPTS = 5
REPLY_MAX_CHARS = 4000
REPLY_ROLES = Action.MESSENGER_REPLY  # what the access policy is asked


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
        transaction.on_commit(partial(process_inbound.delay, update.pk))
    return stored


def _conversation_for(account: ChannelAccount, message: InboundMessage) -> Conversation:
    conversation = (
        conversation_select_for_update()
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
            conversation = conversation_select_for_update().get(
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
                inbound_update_select_for_update()
                .select_related("account__service")
                .get(pk=update_id)
            )
            if update.status == InboundUpdate.Status.PROCESSED:
                return update
            message = InboundMessage.from_dict(update.payload)
            conversation = _conversation_for(update.account, message)
            # A tap on a button, or the impressions of a consultation, is the client's answer to
            # the questionnaire: never shown to the consultant (they see aggregates only), so not
            # a history line, and its text is not kept in the stored update either.
            private = bool(message.callback_id) or (
                conversation.state == Conversation.State.QUALITY_TEXT
                and not message.text.strip().startswith("/")
            )
            if not private:
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
            if private:
                update.payload = {**update.payload, "text": ""}
            update.conversation = conversation
            update.status = InboundUpdate.Status.PROCESSED
            update.processed_at = timezone.now()
            update.attempts += 1
            update.error = ""
            update.save(
                update_fields=[
                    "conversation",
                    "status",
                    "processed_at",
                    "attempts",
                    "error",
                    "payload",
                ]
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
                **({"data": b.data} if b.data else {}),
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
    author: User | None = None,
    dispatch: bool = True,
    file: UploadedFile[bytes] | None = None,
) -> OutgoingChatMessage:
    """Queue a message to the conversation's chat and record it in the history; it is sent by a
    task after commit (unless `dispatch` is False: the caller sends it itself). The same `key`
    queues it once (a retried caller gets the first row)."""
    key = (key or f"msg:{uuid.uuid4()}")[:200]
    existing = OutgoingChatMessage.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    message = OutgoingChatMessage(
        account=conversation.account,
        conversation=conversation,
        text=text[:REPLY_MAX_CHARS],
        buttons=_buttons_json(buttons),
        idempotency_key=key,
    )
    if file is not None:
        message.file_name = _safe_file_name(file.name or "document")
        save_reply_file(message.file, b"".join(file.chunks()))
    message.full_clean(exclude=["account", "conversation"], validate_unique=False)
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        return OutgoingChatMessage.objects.get(idempotency_key=key)
    ConversationMessage.objects.create(
        conversation=conversation,
        direction=ConversationMessage.Direction.OUT,
        text=message.text,
        outbound=message,
        author=author,
        attachments=(
            [{"type": "document", "file_name": message.file_name, "size": file.size or 0}]
            if file is not None
            else []
        ),
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=timezone.now())
    if dispatch:
        deliver_after_commit(OutgoingChatMessage, message.pk)
    return message


@transaction.atomic(savepoint=False)
def outbound_enqueue_action(
    *,
    conversation: Conversation,
    method: str,
    target_id: str,
    text: str,
    buttons: Sequence[Sequence[Button]] | None = None,
    key: str,
) -> OutgoingChatMessage:
    """Queue a call that is not a new message (answer a button tap, change a message's
    buttons) through the same outbox; not a line of the conversation's history. Once per `key`."""
    key = key[:200]
    existing = OutgoingChatMessage.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    message = OutgoingChatMessage(
        account=conversation.account,
        conversation=conversation,
        text=text[:REPLY_MAX_CHARS],
        buttons=_buttons_json(buttons),
        method=method,
        target_id=target_id[:128],
        idempotency_key=key,
    )
    message.full_clean(exclude=["account", "conversation"], validate_unique=False)
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        return OutgoingChatMessage.objects.get(idempotency_key=key)
    deliver_after_commit(OutgoingChatMessage, message.pk)
    return message


def chat_send(m: OutgoingChatMessage) -> dict[str, Any]:
    """The messengers outbox's adapter (notifications.outbox): hand one claimed message to the
    provider. Raises SendError (with `retryable`) when the provider did not take it. A crash after
    the provider took it but before our commit can repeat it once; VK drops such a repeat by
    random_id."""
    adapter = get_adapter(m.account)
    if m.file:
        content = read_reply_file(m.file)
        external_id = adapter.send_document(
            chat_id=m.conversation.external_chat_id,
            file_name=m.file_name or "document",
            content=content,
            caption=m.text,
            idempotency_key=m.idempotency_key,
            # Viber fetches the file itself: a signed link to exactly this message's file.
            file_url=reply_file_url(m.pk) if adapter.files_by_url else "",
        )
        return {"external_id": (external_id or "")[:128]}
    if m.method == OutgoingChatMessage.Method.ANSWER_CALLBACK:
        adapter.answer_callback(callback_id=m.target_id, text=m.text)
        return {"external_id": ""}
    if m.method == OutgoingChatMessage.Method.EDIT_BUTTONS:
        adapter.edit_buttons(
            chat_id=m.conversation.external_chat_id,
            message_id=m.target_id,
            buttons=_buttons(m.buttons),
        )
        return {"external_id": ""}
    external_id = adapter.send_text(
        chat_id=m.conversation.external_chat_id,
        text=m.text,
        buttons=_buttons(m.buttons),
        idempotency_key=m.idempotency_key,
    )
    return {"external_id": (external_id or "")[:128]}


def outbound_send(*, message_id: int) -> OutgoingChatMessage:
    """Send one queued message through the one outbox. Idempotent: a sent (or given-up) message
    is not sent again; a message another worker holds is left to it."""
    outbox_deliver(label_of(OutgoingChatMessage), message_id)
    return OutgoingChatMessage.objects.select_related("account", "conversation").get(pk=message_id)


def inbound_retry_due(*, now: dt.datetime | None = None, stuck_after: int = 60) -> int:
    """Re-run inbound updates that failed or were never processed (a lost task message) within
    `stuck_after` seconds. Returns how many were re-run. (Outgoing messages are swept by the one
    outbox.)"""
    now = now or timezone.now()
    stuck = now - dt.timedelta(seconds=stuck_after)
    pks = list(
        InboundUpdate.objects.filter(
            status__in=[InboundUpdate.Status.RECEIVED, InboundUpdate.Status.FAILED],
            received_at__lte=stuck,
            attempts__lt=MAX_PROCESS_ATTEMPTS,
        ).values_list("pk", flat=True)[:500]
    )
    for pk in pks:
        inbound_process(update_id=pk)
    return len(pks)


# --- consultant's replies ---------------------------------------------------------------------

# A document sent with an answer: at most this large (Telegram bots send up to 50 MB; the
# e-mail answer's limit is kept for both written forms).
REPLY_FILE_MAX_BYTES = 10 * 1024 * 1024


def _safe_file_name(name: str) -> str:
    """The file's own name without any folder part or control characters, at most 200 chars."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip() or "document"
    return cleaned[-200:]


def _check_reply_file(conversation: Conversation, file: UploadedFile[bytes]) -> None:
    """Refuse, naming the problem, a file the channel cannot send, an empty or too large one."""
    if not get_adapter(conversation.account).sends_files:
        raise DomainError(
            _(
                "%(channel)s does not take files from the service: send a link to the document "
                "in the text instead."
            )
            % {"channel": conversation.account.get_channel_display()},
            code="file",
        )
    if not file.size:
        raise DomainError(_("The file %(name)s is empty.") % {"name": file.name}, code="file")
    if file.size > REPLY_FILE_MAX_BYTES:
        raise DomainError(
            _("The file %(name)s is larger than 10 MB.") % {"name": file.name}, code="file"
        )


def _require_staff(actor: Actor, conversation: Conversation) -> User:
    """The staff member `actor`, if they may answer this conversation."""
    if not (isinstance(actor, User) and policy.can(actor, REPLY_ROLES)):
        raise PermissionDenied(_("Only a consultant or the head may answer messenger messages."))
    if policy.sees_every_service(actor):
        return actor
    if not actor.services.filter(pk=conversation.account.service_id).exists():
        raise PermissionDenied(_("You do not work for this service."))
    return actor


@transaction.atomic
def conversation_reply(
    *,
    actor: Actor,
    conversation: Conversation,
    text: str,
    file: UploadedFile[bytes] | None = None,
) -> OutgoingChatMessage:
    """A consultant's answer to a messenger conversation: queued, sent after commit. With
    `file` (a document the client asked for, regulation 004) the answer goes as its caption,
    where the channel sends files; links go in the text."""
    user = _require_staff(actor, conversation)
    text = (text or "").strip()
    if file is not None:
        _check_reply_file(conversation, file)
    if not text:
        raise DomainError(_("Write the answer before sending it."), code="empty")
    if len(text) > REPLY_MAX_CHARS:
        raise DomainError(
            _("The answer is too long (at most %(max)d characters).") % {"max": REPLY_MAX_CHARS},
            code="too_long",
        )
    conversation = conversation_select_for_update().get(pk=conversation.pk)
    message = outbound_enqueue(conversation=conversation, text=text, author=user, file=file)
    conversation.awaiting_reply_since = None
    conversation.save(update_fields=["awaiting_reply_since"])
    audit_record(
        actor=actor,
        event_type=AuditEventType.MESSENGERS_REPLY_SENT,
        subject=conversation,
        extra={"outbound_id": message.pk, "channel": conversation.account.channel},
    )
    return message


# --- A conversation taken up as a written consultation (issue 12) --------------------------------


def conversation_consultation(*, conversation: Conversation) -> Consultation | None:
    """The consultation the conversation's current request was taken up as, if any."""
    if conversation.request_id is None:
        return None
    return (
        Consultation.objects.filter(
            booking__request_id=conversation.request_id, form__in=["email", "messenger"]
        )
        .select_related("booking__slot")
        .first()
    )


def conversation_take_up(*, actor: Actor, conversation: Conversation) -> Consultation:
    """The consultant takes the conversation's request up as a consultation (one per request);
    a request another consultant holds gets a clear message."""
    request = conversation.request
    if request is None:
        raise DomainError(
            _("This conversation has no request yet: register it first."), code="no_request"
        )
    if request.assigned_to_id is not None and request.assigned_to_id != actor.pk:
        holder = request.assigned_to.display_name if request.assigned_to else ""
        raise DomainError(
            _(
                "This thread is held by another consultant (%(name)s); "
                "the head can reassign it to you."
            )
            % {"name": holder},
            code="held_by_other",
        )
    if conversation_consultation(conversation=conversation) is not None:
        raise DomainError(
            _("This thread is already taken up as a consultation."), code="already_taken"
        )
    return consultation_take_written(actor=actor, request=request, form="messenger")


def conversation_close(*, actor: Actor, conversation: Conversation) -> Consultation:
    """The written consultation in the messenger is answered: closed; the protocol comes next."""
    consultation = conversation_consultation(conversation=conversation)
    if consultation is None:
        raise DomainError(_("This thread is not taken up as a consultation."), code="not_taken")
    answered = ConversationMessage.objects.filter(
        conversation=conversation,
        direction=ConversationMessage.Direction.OUT,
        author_id=actor.pk,
    ).exists()
    if not answered:
        raise DomainError(_("Send an answer before closing the consultation."), code="no_answer")
    return consultation_close_written(actor=actor, consultation=consultation)
