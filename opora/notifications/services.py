"""Writes for notifications: store first, deliver after commit through a task, retry safely."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, models, transaction
from django.urls import reverse

from opora.core.audit import AuditEventType, audit_record
from opora.core.crypto import blind_index
from opora.core.links import public_url
from opora.notifications import channels
from opora.notifications.dispatch import deliver_after_commit
from opora.notifications.locks import shortlink_select_for_update
from opora.notifications.models import (
    SHORT_CODE_ALPHABET,
    SHORT_CODE_LENGTH,
    Notification,
    NotificationAttachment,
    ShortLink,
)
from opora.notifications.sms import get_sms_backend

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

logger = logging.getLogger(__name__)

# (filename, content, mimetype)
Attachment = tuple[str, bytes, str]

DIRECT_CHANNELS = (Notification.Channel.EMAIL, Notification.Channel.SMS)


def _label(about: models.Model | None) -> tuple[str, str]:
    if about is None:
        return "", ""
    return about._meta.label_lower, str(about.pk)


def _store(
    *,
    channel: str,
    recipient: str,
    body: str,
    kind: str,
    subject: str,
    subject_type: str,
    subject_id: str,
    attachments: Sequence[Attachment] | None,
    dedupe_key: str | None,
    html_body: str = "",
    action_url: str = "",
    action_label: str = "",
) -> tuple[Notification, bool]:
    """Insert one notification (with its attachments); with a dedupe key, at most once."""
    notification = Notification(
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        html_body=html_body,
        action_url=action_url,
        action_label=action_label[:100],
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        dedupe_key=dedupe_key or None,
    )
    notification.full_clean(validate_unique=False)
    if dedupe_key:
        try:
            with transaction.atomic():
                notification.save()
        except IntegrityError:
            return Notification.objects.get(dedupe_key=dedupe_key), False
    else:
        notification.save()
    for filename, content, mimetype in attachments or ():
        NotificationAttachment.objects.create(
            notification=notification, filename=filename, content=content, mimetype=mimetype
        )
    deliver_after_commit(Notification, notification.pk)
    return notification, True


def contact_key(recipient: str) -> str:
    """What a dedupe key holds for a recipient: its keyed hash (the key is stored in clear)."""
    return blind_index("contact", recipient)


def _copy_to_messengers(
    *, kind: str, subject_type: str, subject_id: str, recipient: str | None, body: str
) -> list[Notification]:
    """The same notice to the client's messenger conversations, once each (dedupe key)."""
    copies = []
    for channel, conversation in channels.client_contacts(
        subject_type, subject_id, recipient=recipient, kind=kind
    ):
        notification, _created = _store(
            channel=channel,
            recipient=conversation,
            body=body,
            kind=kind,
            subject="",
            subject_type=subject_type,
            subject_id=subject_id,
            attachments=None,
            dedupe_key=f"{kind}:{subject_type}:{subject_id}:{channel}:{contact_key(conversation)}"[
                :200
            ],
        )
        copies.append(notification)
    return copies


@transaction.atomic(savepoint=False)
def notification_create(
    *,
    channel: str,
    recipient: str,
    body: str,
    kind: str,
    subject: str = "",
    about: models.Model | None = None,
    attachments: Sequence[Attachment] | None = None,
    dedupe_key: str | None = None,
    copy_to_messengers: bool = True,
) -> Notification:
    """Store a message for a client; it is delivered by a task once the transaction commits.

    With a broker (production) the caller's transaction is not slowed by SMTP or an SMS gateway;
    in the embedded default the task runs in-process right after the commit.

    `attachments` ((filename, bytes, mimetype) tuples) go with an e-mail. With `dedupe_key` the
    message is stored once: a second call returns the first row. A notice by e-mail or SMS to the
    client's own contact about `about` is also copied once to the client's messenger
    conversations, where a messenger app has registered a resolver (`notifications.channels`).
    """
    subject_type, subject_id = _label(about)
    notification, created = _store(
        channel=channel,
        recipient=recipient,
        body=body,
        kind=kind,
        subject=subject,
        subject_type=subject_type,
        subject_id=subject_id,
        attachments=attachments,
        dedupe_key=dedupe_key,
    )
    if created and copy_to_messengers and about is not None and channel in DIRECT_CHANNELS:
        _copy_to_messengers(
            kind=kind,
            subject_type=subject_type,
            subject_id=subject_id,
            recipient=recipient,
            body=body,
        )
    return notification


@transaction.atomic(savepoint=False)
def notification_send_to_client(
    *,
    kind: str,
    subject: str,
    body: str,
    about: models.Model,
    phone: str = "",
    email: str = "",
    attachments: Sequence[Attachment] | None = None,
    dedupe_prefix: str = "",
    contact_hint: dict[str, int | None] | None = None,
    sms_body: str = "",
    html_body: str = "",
    action_url: str = "",
    action_label: str = "",
) -> list[Notification]:
    """Tell the client of `about` by SMS, e-mail and every messenger conversation they have.

    Unlike `notification_create`, the messenger copies do not depend on a phone or e-mail being
    known: a client who wrote only through Telegram is told there. With `dedupe_prefix` each
    message is stored once for that prefix (reminders). `contact_hint` ({"request_id", "client_id"})
    lets the messenger lookup skip finding the request again.

    `body` is the full text (e-mail, messengers); `sms_body`, when given, the short SMS;
    `html_body` the e-mail's HTML alternative; `action_url` (with `action_label`) the one link to
    act on, which messengers with URL buttons show as a button.
    """
    subject_type, subject_id = _label(about)

    def key(channel: str, recipient: str) -> str | None:
        if not dedupe_prefix:
            return None
        return f"{dedupe_prefix}:{subject_type}:{subject_id}:{channel}:{contact_key(recipient)}"[
            :200
        ]

    sent: list[Notification] = []
    common = {"kind": kind, "subject_type": subject_type, "subject_id": subject_id}
    if phone:
        n, _created = _store(
            channel=Notification.Channel.SMS,
            recipient=phone,
            body=sms_body or body,
            subject="",
            attachments=None,
            dedupe_key=key("sms", phone),
            **common,
        )
        sent.append(n)
    if email:
        n, _created = _store(
            channel=Notification.Channel.EMAIL,
            recipient=email,
            body=body,
            subject=subject,
            attachments=attachments,
            dedupe_key=key("email", email),
            html_body=html_body,
            action_url=action_url,
            action_label=action_label,
            **common,
        )
        sent.append(n)
    for channel, conversation in channels.client_contacts(
        subject_type, subject_id, recipient=None, kind=kind, hint=contact_hint
    ):
        n, _created = _store(
            channel=channel,
            recipient=conversation,
            body=body,
            subject="",
            attachments=None,
            dedupe_key=key(channel, conversation)
            or f"{kind}:{subject_type}:{subject_id}:{channel}:{contact_key(conversation)}"[:200],
            action_url=action_url,
            action_label=action_label,
            **common,
        )
        sent.append(n)
    return sent


def _send(n: Notification) -> None:
    if n.channel == Notification.Channel.EMAIL:
        message = EmailMultiAlternatives(subject=n.subject, body=n.body, to=[n.recipient])
        if n.html_body:
            message.attach_alternative(n.html_body, "text/html")
        for attachment in n.attachments.all():
            message.attach(attachment.filename, bytes(attachment.content), attachment.mimetype)
        message.send()
    elif n.channel == Notification.Channel.SMS:
        get_sms_backend().send(phone=n.recipient, text=n.body)
    else:
        sender = channels.get_sender(n.channel)
        if sender is None:
            # A configuration error no retry mends: given up at once, shown to the heads.
            error = LookupError(f"no sender registered for {n.channel}")
            # The flag the outbox reads with getattr; a plain LookupError, not a subclass, as its
            # class name is the reason the heads are shown.
            error.retryable = False  # type: ignore[attr-defined]
            raise error
        sender(n)


def notification_deliver(*, notification_id: int) -> Notification:
    """Send one stored notification through the one outbox (claim, send, record, back-off).
    Safe to call twice: a sent one is not sent again."""
    from opora.notifications.outbox import label_of, outbox_deliver

    outbox_deliver(label_of(Notification), notification_id)
    return Notification.objects.get(pk=notification_id)


def notification_send(n: Notification) -> None:
    """The notifications outbox's adapter: deliver one claimed row, raise on failure."""
    _send(n)


def _new_short_code() -> str:
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


def shortlink_for(
    *, target_type: str, target_id: str = "", path: str = "", expires_at: dt.datetime
) -> ShortLink:
    """The short link of a target (created on first use; one per (type, id)), alive at least
    until `expires_at`: a later notice about the same target carries the same link and extends it.

    A `path` link (no id) is a new link each time. Runs in the caller's transaction.
    """
    if target_id:
        existing = (
            shortlink_select_for_update()
            .filter(target_type=target_type, target_id=target_id)
            .first()
        )
        if existing is not None:
            if existing.expires_at < expires_at:
                existing.expires_at = expires_at
                existing.save(update_fields=["expires_at"])
            return existing
    link = ShortLink(
        code=_new_short_code(),
        target_type=target_type,
        target_id=target_id,
        path=path,
        expires_at=expires_at,
    )
    link.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            link.save()
    except IntegrityError:
        if target_id:
            # Another notice about the same target created it at the same moment.
            found = ShortLink.objects.filter(target_type=target_type, target_id=target_id).first()
            if found is not None:
                return found
        # 31^12 codes make a collision astronomically rare; draw again once.
        link.code = _new_short_code()
        link.save()
    return link


def shortlink_url(link: ShortLink) -> str:
    """The link's absolute public address, e.g. https://opora.example.kz/l/7KQ4M2XH9RTB."""
    return public_url(reverse("shortlink", args=[link.code]))


@transaction.atomic
def outbox_delivery_retry(*, actor: AbstractBaseUser, label: str, pk: int) -> bool:
    """A head gives a failed delivery (any outbox) a fresh round of attempts; audited.

    `actor` is the head, an `accounts.models.User` (notifications, on accounts' rank, does not
    import it: typed as Django's `AbstractBaseUser`, which it is).
    The caller has checked that the actor may see the row (web.views.deliveries). Returns False
    when the row is no longer failed (retried by someone else, or sent meanwhile).
    """
    from opora.notifications.outbox import outbox_requeue

    row = outbox_requeue(label, pk)
    if row is None:
        return False
    audit_record(
        actor=actor,
        event_type=AuditEventType.OUTBOX_DELIVERY_RETRIED,
        subject=row,
        extra={"outbox": label, "last_error": row.last_error},
    )
    deliver_after_commit(type(row), row.pk)
    return True
