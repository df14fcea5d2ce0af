"""Writes of the mail app: letters in (stored, registered or quarantined), answers out, overdue flags.

Regulation 002 §4.6: a letter is registered on the day it is received and addressed to the
responsible specialist (§4.6.2), who answers within 3 working days from the service's official
address (§4.6.3). Every letter is a stored row before anything is acknowledged to the mail server.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from email.utils import formataddr, make_msgid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from opora.accounts import policy
from opora.accounts.access import require_works_for
from opora.accounts.actors import Actor
from opora.accounts.models import Role, User
from opora.accounts.policy import Action
from opora.consultations.models import Consultation
from opora.consultations.services import consultation_close_written, consultation_take_written
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError, PermissionDenied
from opora.core.links import public_url
from opora.core.models import Service
from opora.intake.models import Channel, ServiceForm, ServiceRequest
from opora.intake.services import request_create
from opora.mail import files as mail_files
from opora.mail import selectors
from opora.mail.locks import (
    inbound_messages_select_for_update,
    service_request_select_for_update,
)
from opora.mail.models import (
    Attachment,
    InboundMessage,
    Mailbox,
    OutgoingAttachment,
    OutgoingLetter,
    TlsMode,
)
from opora.mail.parsing import ParsedLetter, parse_letter
from opora.notifications.dispatch import deliver_after_commit
from opora.notifications.outbox import label_of, outbox_deliver
from opora.notifications.services import notification_create
from opora.scheduling.calendar import add_working_days, local_now, to_local

logger = logging.getLogger(__name__)

# The request code as `intake` makes it (no 0/O, 1/I/L), quoted in our subjects as "[ABCD-EFGH]".
_CODE_IN_SUBJECT = re.compile(r"(?<![0-9A-Z])([2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4})(?![0-9A-Z])")
_RE_PREFIX = re.compile(r"^\s*((re|fw|fwd|ответ|отв|на)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
REASON_FROM_BODY_CHARS = 300
ANSWER_MAX_CHARS = 20_000
SMTP_TIMEOUT_SECONDS = 20
OPEN_STATUSES = (ServiceRequest.Status.NEW, ServiceRequest.Status.BOOKED)
ANSWERING_ROLES = Action.WRITTEN_ANSWER  # what the access policy is asked
QUARANTINE_ROLES = Action.MAIL_QUARANTINE


# --- Who answers, and by when ------------------------------------------------------------------


def mailbox_consultant(mailbox: Mailbox) -> User | None:
    """The responsible consultant for a new letter: the one named, or the least-loaded one.

    Least loaded: the active consultant of the service with the fewest open e-mail requests
    assigned (ties by primary key, so the choice is stable). None when the service has none:
    the request is still registered, unassigned, and the head sees it.
    """
    if mailbox.assignment == Mailbox.Assignment.FIXED:
        return mailbox.consultant
    service = mailbox.service
    return (
        User.objects.filter(services=service, role=Role.CONSULTANT, is_active=True)
        .annotate(
            open_letters=Count(
                "assigned_requests",
                filter=Q(
                    assigned_requests__service=service,
                    assigned_requests__channel=Channel.EMAIL,
                    assigned_requests__status__in=OPEN_STATUSES,
                ),
            )
        )
        .order_by("open_letters", "pk")
        .first()
    )


def answer_due_on(service: Service, received_at: dt.datetime) -> dt.date:
    """The last day for the answer: N working days (the service's calendar) after receipt."""
    received_day = to_local(service, received_at).date()
    return add_working_days(service, received_day, service.written_answer_working_days)


# --- Letters in --------------------------------------------------------------------------------


def _thread_request(mailbox: Mailbox, letter: ParsedLetter) -> ServiceRequest | None:
    """The request a letter continues: by In-Reply-To/References, else by the code in its subject.

    A code alone joins only a letter from the request's own address: a code is short and printed
    in letters, so it must not let a stranger into someone else's correspondence.
    """
    service = mailbox.service
    ids = letter.thread_ids
    if ids:
        earlier = (
            InboundMessage.objects.filter(
                mailbox__service=service, message_id__in=ids, request__isnull=False
            )
            .select_related("request")
            .order_by("-received_at")
            .first()
        )
        if earlier is not None:
            return earlier.request
        ours = (
            OutgoingLetter.objects.filter(request__service=service, message_id__in=ids)
            .select_related("request")
            .first()
        )
        if ours is not None:
            return ours.request
    match = _CODE_IN_SUBJECT.search(letter.subject.upper())
    addresses = [a for a in (letter.from_address, letter.reply_to) if a]
    if match and addresses:
        same_sender = Q()
        for address in addresses:
            same_sender |= Q(email=address)  # the blind index folds the case
        return (
            ServiceRequest.objects.filter(service=service, public_code=match.group(1))
            .filter(same_sender)
            .first()
        )
    return None


def _quarantine_reason(mailbox: Mailbox, letter: ParsedLetter, size: int) -> str:
    if letter.is_spam:
        return InboundMessage.QuarantineReason.SPAM
    if size > mailbox.max_message_bytes:
        return InboundMessage.QuarantineReason.OVERSIZED
    return ""


def _new_request_reason(letter: ParsedLetter) -> str:
    if letter.subject:
        return letter.subject
    return letter.body_text[:REASON_FROM_BODY_CHARS]


def _register_new(
    *, actor: Actor | None, mailbox: Mailbox, letter: ParsedLetter
) -> tuple[ServiceRequest | None, str]:
    """A new request for the letter, or (None, quarantine reason) when it cannot be registered."""
    service = mailbox.service
    address = letter.reply_to or letter.from_address
    if not address:
        return None, InboundMessage.QuarantineReason.UNREADABLE
    try:
        with transaction.atomic():
            request = request_create(
                actor=actor,
                service=service,
                # The display name is what the client calls themselves; without one, the address
                # names them until the consultant learns more.
                full_name=letter.from_name or address,
                email=address,
                reason=_new_request_reason(letter),
                channel=Channel.EMAIL,
                preferred_form=ServiceForm.WRITTEN,
                assigned_to=mailbox_consultant(mailbox),
                # Registered today; where the service checks eligibility (1411) the operator
                # checks the IIN before anything is booked.
                defer_eligibility=True,
            )
    except (DomainError, ValidationError):
        return None, InboundMessage.QuarantineReason.UNREADABLE
    return request, ""


def _reopen(*, actor: Actor | None, request: ServiceRequest) -> None:
    """A new letter in an answered thread waits for an answer again (regulation 002 §4.6.1)."""
    locked = service_request_select_for_update().get(pk=request.pk)
    if locked.status != ServiceRequest.Status.DONE:
        return
    locked.status = ServiceRequest.Status.NEW
    locked.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, event_type=AuditEventType.MAIL_REQUEST_REOPENED, subject=locked)


def _route(
    *, actor: Actor | None, message: InboundMessage, letter: ParsedLetter, status: str
) -> AuditEventType:
    """Decide where a letter goes (not saved here): its thread, a new request, or quarantine.

    Returns the audit event to record once the letter is saved.
    """
    mailbox = message.mailbox
    request = _thread_request(mailbox, letter)
    joined = request is not None
    reason = ""
    if request is None:
        request, reason = _register_new(actor=actor, mailbox=mailbox, letter=letter)
    if request is None:
        message.status = InboundMessage.Status.QUARANTINED
        message.quarantine_reason = reason
        return AuditEventType.MAIL_LETTER_QUARANTINED
    if joined:
        _reopen(actor=actor, request=request)
    message.status = status
    message.request = request
    message.due_on = answer_due_on(mailbox.service, message.received_at)
    return (
        AuditEventType.MAIL_LETTER_JOINED_THREAD
        if joined
        else AuditEventType.MAIL_LETTER_REGISTERED
    )


def _store_attachments(message: InboundMessage, letter: ParsedLetter, saved: list[str]) -> None:
    for part in letter.attachments:
        attachment = Attachment(
            message=message,
            filename=part.filename,
            content_type=part.content_type,
            size=len(part.content),
        )
        mail_files.save_sealed(
            attachment.file,
            mail_files.neutral_name(".bin"),
            part.content,
            kind=mail_files.ATTACHMENT,
        )
        if attachment.file.name:
            saved.append(attachment.file.name)
        attachment.save()


def _finish(
    *,
    actor: Actor | None,
    message: InboundMessage,
    letter: ParsedLetter,
    event: AuditEventType,
    saved: list[str],
) -> None:
    """After the letter's row is saved: its attachments (if registered) and the audit record."""
    if message.request_id is None:
        audit_record(
            actor=actor,
            event_type=event,
            subject=message,
            extra={"reason": message.quarantine_reason},
        )
        return
    _store_attachments(message, letter, saved)
    audit_record(
        actor=actor,
        event_type=event,
        subject=message,
        extra={
            "request": message.request_id,
            "attachments": len(letter.attachments),
            "due_on": message.due_on.isoformat() if message.due_on else None,
        },
    )


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("mail: could not remove an orphaned file after a rollback")


def inbound_store(
    *,
    mailbox: Mailbox,
    raw: bytes,
    received_at: dt.datetime | None = None,
    imap_uid: int | None = None,
) -> tuple[InboundMessage, bool]:
    """Store one letter and register it (or quarantine it) in one transaction.

    Returns (message, created). A Message-ID this mailbox already has returns the stored row:
    fetching the same letter again — after a crash, a retry, a second worker — changes nothing.
    A letter without a Message-ID gets a stable id from its bytes. Spam and oversized letters
    are stored in quarantine with the reason, never dropped. If anything fails, nothing of the
    letter is left in the database (and its files are removed), so the next fetch starts it over.
    """
    letter = parse_letter(raw)
    existing = InboundMessage.objects.filter(mailbox=mailbox, message_id=letter.message_id).first()
    if existing is not None:
        return existing, False
    now = timezone.now()
    # The server's arrival time is the receipt; a clock ahead of ours is not trusted.
    received_at = min(received_at or now, now)
    size = len(raw)
    saved: list[str] = []
    try:
        with transaction.atomic():
            message = InboundMessage(
                mailbox=mailbox,
                message_id=letter.message_id,
                imap_uid=imap_uid,
                received_at=received_at,
                from_address=letter.from_address,
                from_name=letter.from_name,
                reply_to=letter.reply_to,
                subject=letter.subject,
                body_text=letter.body_text,
                in_reply_to=letter.in_reply_to,
                references=" ".join(letter.references),
                size=size,
            )
            reason = _quarantine_reason(mailbox, letter, size)
            if reason:
                message.status = InboundMessage.Status.QUARANTINED
                message.quarantine_reason = reason
                event = AuditEventType.MAIL_LETTER_QUARANTINED
            else:
                event = _route(
                    actor=None,
                    message=message,
                    letter=letter,
                    status=InboundMessage.Status.REGISTERED,
                )
            # Sealed at rest like recordings (mail.files); read back with `read_plain`.
            mail_files.save_sealed(message.raw, f"{mailbox.pk}.eml", raw, kind=mail_files.RAW)
            if message.raw.name:
                saved.append(message.raw.name)
            # Uniqueness and the checks are the database's: a racing second fetch of the same
            # letter ends in IntegrityError below, and reads the winner's row.
            message.full_clean(validate_unique=False, validate_constraints=False)
            message.save()
            _finish(actor=None, message=message, letter=letter, event=event, saved=saved)
    except IntegrityError:
        _delete_files(saved)
        existing = InboundMessage.objects.filter(
            mailbox=mailbox, message_id=letter.message_id
        ).first()
        if existing is None:
            raise
        return existing, False
    except BaseException:
        _delete_files(saved)
        raise
    return message, True


def inbound_release(*, actor: Actor, message: InboundMessage) -> InboundMessage:
    """Release a quarantined letter (staff judged it genuine): register it as if it came now.

    Its receipt time stays that of the letter: the deadline counts from when it arrived.
    """
    user = _require_role(actor, QUARANTINE_ROLES, _("You may not release letters from quarantine."))
    require_works_for(user, message.mailbox.service)
    saved: list[str] = []
    try:
        with transaction.atomic():
            locked = (
                inbound_messages_select_for_update()
                .select_related("mailbox__service")
                .get(pk=message.pk)
            )
            if locked.status != InboundMessage.Status.QUARANTINED:
                raise DomainError(
                    _("This letter is no longer in quarantine."), code="not_quarantined"
                )
            letter = parse_letter(mail_files.read_plain(locked.raw, kind=mail_files.RAW))
            event = _route(
                actor=user, message=locked, letter=letter, status=InboundMessage.Status.RELEASED
            )
            if locked.request is None:
                raise DomainError(_release_refusal(locked.quarantine_reason), code="not_released")
            locked.released_by = user
            locked.save(update_fields=["status", "request", "due_on", "released_by"])
            _finish(actor=user, message=locked, letter=letter, event=event, saved=saved)
            audit_record(
                actor=user,
                event_type=AuditEventType.MAIL_LETTER_RELEASED,
                subject=locked,
                extra={"request": locked.request_id},
            )
    except BaseException:
        _delete_files(saved)
        raise
    return locked


def _release_refusal(reason: str) -> str:
    if reason == InboundMessage.QuarantineReason.ELIGIBILITY:
        return _(
            "This service checks eligibility by IIN: contact the sender, check the IIN in the "
            "operator console and register the request there."
        )
    return _(
        "The letter has no readable sender address: it cannot become a request. "
        "Contact the sender another way."
    )


# --- Answers out -------------------------------------------------------------------------------


def _require_role(actor: Actor, action: Action, message: str) -> User:
    """The staff member `actor`, if the access policy lets them take `action`."""
    if not (isinstance(actor, User) and policy.can(actor, action)):
        raise PermissionDenied(message)
    return actor


def can_answer(actor: Actor, request: ServiceRequest) -> bool:
    """The responsible consultant, or a head of the service (or an administrator)."""
    if not (isinstance(actor, User) and actor.is_active):
        return False
    # The policy's `written.answer` (a consultant: the responsible one, never an unassigned one).
    if not policy.can(actor, Action.WRITTEN_ANSWER, request):
        return False
    return not policy.own_only(actor, Action.WRITTEN_ANSWER) or request.assigned_to_id == actor.pk


def _strip_re(subject: str) -> str:
    return _RE_PREFIX.sub("", subject or "").strip()


def answer_subject(request: ServiceRequest, original: str) -> str:
    """ "Re: <their subject> [ABCD-EFGH]": the code lets the next letter find the thread."""
    base = _strip_re(original)
    code = request.public_code or str(request.pk)
    if not base:
        with translation.override(settings.LANGUAGE_CODE):
            base = _("Your request")
    if code not in base:
        base = f"{base} [{code}]"
    return f"Re: {base}"[:500]


@transaction.atomic
def written_answer_create(
    *,
    actor: Actor,
    request: ServiceRequest,
    body: str,
    submission_key: str = "",
    files: Sequence[UploadedFile[bytes]] = (),
) -> OutgoingLetter:
    """Store the consultant's written answer and send it after commit (regulation 002 §4.6.3).

    It goes from the service's official address in the same thread (In-Reply-To the client's
    latest letter, References the whole chain) to the request's own address. Every letter
    waiting in the thread counts as answered, and the request is done — unless a consultant
    took the thread up as a consultation: then its protocol closes the request (issue 12).
    `files` (documents, regulations the client asked for) go with the answer. The audit log
    records who answered which request, never the text. The same `submission_key` stores one
    answer.
    """
    _check_files(files)
    if not (isinstance(actor, User) and can_answer(actor, request)):
        raise PermissionDenied(_("Only the responsible consultant or the head may answer."))
    body = (body or "").strip()
    if not body:
        raise DomainError(_("Write the answer."), code="answer_required")
    if len(body) > ANSWER_MAX_CHARS:
        raise DomainError(
            _("The answer is too long (at most %(max)d characters).") % {"max": ANSWER_MAX_CHARS},
            code="answer_too_long",
        )
    if submission_key:
        previous = OutgoingLetter.objects.filter(submission_key=submission_key).first()
        if previous is not None:
            return previous
    locked = service_request_select_for_update().get(pk=request.pk)
    letters = list(
        InboundMessage.objects.filter(request=locked)
        .exclude(status=InboundMessage.Status.QUARANTINED)
        .select_related("mailbox")
        .order_by("received_at", "pk")
    )
    if not letters:
        raise DomainError(
            _("This request came without a letter: there is no thread to answer."),
            code="no_letter",
        )
    latest = letters[-1]
    mailbox = latest.mailbox
    to_address = locked.email or latest.reply_to or latest.from_address
    if not to_address:
        raise DomainError(_("The request has no e-mail address to answer to."), code="no_address")
    previous_out = list(
        OutgoingLetter.objects.filter(request=locked).values_list("message_id", flat=True)
    )
    chain: list[str] = []
    for mid in [*latest.references.split(), *previous_out, *(m.message_id for m in letters)]:
        if mid and mid not in chain:
            chain.append(mid)
    domain = mailbox.from_address.rpartition("@")[2] or "opora.local"
    first_subject = next((m.subject for m in letters if m.subject), "")
    out = OutgoingLetter(
        request=locked,
        mailbox=mailbox,
        author=actor,
        message_id=make_msgid(domain=domain),
        in_reply_to=latest.message_id,
        # RFC 5322 §3.6.4: the parent's References plus the parent; older ids first.
        references=" ".join(chain[-20:]),
        to_address=to_address,
        subject=answer_subject(locked, first_subject),
        body=body,
        submission_key=submission_key or None,
        status=OutgoingLetter.Status.QUEUED,
    )
    out.full_clean()
    try:
        with transaction.atomic():
            out.save()
    except IntegrityError:
        if submission_key:
            return OutgoingLetter.objects.get(submission_key=submission_key)
        raise
    for upload in files:
        # Sealed on storage under a neutral name, like the letters that come in; the staff's own
        # file name only in its (encrypted) row.
        attachment = OutgoingAttachment(
            letter=out,
            filename=(upload.name or "file")[:255],
            content_type=(upload.content_type or "application/octet-stream")[:150],
            size=upload.size or 0,
        )
        mail_files.save_sealed(
            attachment.file,
            mail_files.neutral_name(".bin"),
            upload.read(),
            kind=mail_files.ATTACHMENT,
        )
        attachment.save()
    InboundMessage.objects.filter(request=locked, answered_by__isnull=True).exclude(
        status=InboundMessage.Status.QUARANTINED
    ).update(answered_by=out)
    taken_up = selectors.written_consultation(request=locked)
    if taken_up is not None and taken_up.booking.slot.consultant_id == actor.pk:
        audit_record(
            actor=actor,
            event_type=AuditEventType.CONSULTATION_WRITTEN_ANSWERED,
            subject=taken_up,
            extra={"outbound": out.pk, "files": len(files)},
        )
    elif locked.status in OPEN_STATUSES:
        locked.status = ServiceRequest.Status.DONE
        locked.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        event_type=AuditEventType.MAIL_ANSWER_WRITTEN,
        subject=locked,
        extra={"outbound": out.pk, "letters": len(letters), "status": locked.status},
    )
    deliver_after_commit(OutgoingLetter, out.pk)
    return out


def _smtp_connection(mailbox: Mailbox) -> EmailBackend:
    return EmailBackend(
        host=mailbox.smtp_host,
        port=mailbox.smtp_port,
        username=mailbox.smtp_user or None,
        password=mailbox.smtp_password or None,
        use_tls=mailbox.smtp_tls == TlsMode.STARTTLS,
        use_ssl=mailbox.smtp_tls == TlsMode.SSL,
        timeout=SMTP_TIMEOUT_SECONDS,
        fail_silently=False,
    )


def _answer_text(out: OutgoingLetter) -> str:
    service = out.mailbox.service
    with translation.override(settings.LANGUAGE_CODE):
        footer = _("Request code: %(code)s") % {"code": out.request.public_code or out.request_id}
    return f"{out.body}\n\n-- \n{service.name}\n{footer}\n"


def _smtp_send(out: OutgoingLetter) -> None:
    mailbox = out.mailbox
    message = EmailMessage(
        subject=out.subject,
        body=_answer_text(out),
        from_email=formataddr((mailbox.from_name, mailbox.from_address))
        if mailbox.from_name
        else mailbox.from_address,
        to=[out.to_address],
        headers={
            "Message-ID": out.message_id,
            "In-Reply-To": out.in_reply_to,
            "References": out.references,
        },
        connection=_smtp_connection(mailbox),
    )
    for item in out.attachments.all():
        content = mail_files.read_plain(item.file, kind=mail_files.ATTACHMENT)
        message.attach(item.filename, content, item.content_type)
    message.send(fail_silently=False)


def letter_send(out: OutgoingLetter) -> None:
    """The mail outbox's adapter (notifications.outbox): hand one claimed answer to the
    mailbox's SMTP server; raises when the server did not take it."""
    _smtp_send(out)


def letter_sent(out: OutgoingLetter) -> None:
    """Recorded in the transaction that marks the answer sent."""
    audit_record(
        actor=None,
        event_type=AuditEventType.MAIL_ANSWER_SENT,
        subject=out.request,
        extra={"outbound": out.pk, "attempts": out.attempts},
    )


def outbound_deliver(*, outbound_id: int) -> OutgoingLetter:
    """Send one stored answer through the one outbox. Safe to call again and concurrently: only
    the worker that claims the row sends it, and a sent one is never resent."""
    outbox_deliver(label_of(OutgoingLetter), outbound_id)
    return OutgoingLetter.objects.get(pk=outbound_id)


# --- Overdue answers ---------------------------------------------------------------------------


def _service_heads(service: Service) -> list[User]:
    return list(
        User.objects.filter(services=service, role=Role.HEAD, is_active=True)
        .exclude(email="")
        .order_by("pk")
    )


def overdue_flag(*, now: dt.datetime | None = None) -> int:
    """Tell the heads once about each request whose written answer is past its deadline.

    Overdue: a registered letter without an answer whose due day (service's calendar) has ended
    in the service's time zone. One notice per head per request and deadline (a unique key), and
    the letters are marked, so the sweep every 15 minutes never repeats itself. Returns the
    number of requests flagged now.
    """
    now = now or timezone.now()
    candidates = (
        InboundMessage.objects.filter(
            answered_by__isnull=True,
            overdue_notified_at__isnull=True,
            due_on__isnull=False,
            # Every time zone's today is within a day of UTC's; the exact test is per service.
            due_on__lt=now.date() + dt.timedelta(days=1),
            request__isnull=False,
        )
        .exclude(status=InboundMessage.Status.QUARANTINED)
        .select_related("request__service")
        .order_by("request_id", "due_on")
    )
    by_request: dict[int, ServiceRequest] = {}
    for message in candidates:
        request = message.request
        if request is None or message.due_on is None:
            continue  # excluded by the filter above; spelled out for the types
        if message.due_on < local_now(request.service, now).date():
            by_request.setdefault(request.pk, request)
    flagged = 0
    for request in by_request.values():
        if _flag_request(request=request, now=now):
            flagged += 1
    return flagged


@transaction.atomic
def _flag_request(*, request: ServiceRequest, now: dt.datetime) -> bool:
    service = request.service
    today = local_now(service, now).date()
    letters = list(
        inbound_messages_select_for_update()
        .filter(
            request=request,
            answered_by__isnull=True,
            overdue_notified_at__isnull=True,
            due_on__lt=today,
        )
        .exclude(status=InboundMessage.Status.QUARANTINED)
        .order_by("due_on")
    )
    due_on = letters[0].due_on if letters else None
    if due_on is None:  # no letter overdue (a due day is in the filter)
        return False
    if selectors.booking_letter_sent(request=request, due_on=due_on):
        # Regulation 002 §3.2: the booking letter (date and time) answered in time.
        return False
    link = public_url(reverse("mail:thread", args=[request.pk]))
    heads = _service_heads(service)
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Written request %(code)s is overdue") % {"code": request.public_code}
        body = _(
            "The written answer to request %(code)s was due on %(due)s and has not been sent. "
            "Open the request: %(link)s"
        ) % {"code": request.public_code, "due": due_on.strftime("%d.%m.%Y"), "link": link}
    for head in heads:
        notification_create(
            channel="email",
            recipient=head.email,
            subject=subject,
            body=body,
            kind="written_overdue",
            about=request,
            dedupe_key=f"written_overdue:{request.pk}:{due_on.isoformat()}:{head.pk}",
            copy_to_messengers=False,
        )
    InboundMessage.objects.filter(pk__in=[m.pk for m in letters]).update(overdue_notified_at=now)
    audit_record(
        actor=None,
        event_type=AuditEventType.MAIL_ANSWER_OVERDUE,
        subject=request,
        extra={"due_on": due_on.isoformat(), "heads_told": len(heads)},
    )
    return True


# --- Assignment ---------------------------------------------------------------------------------


@transaction.atomic
def written_request_assign(
    *, actor: Actor, request: ServiceRequest, consultant: User
) -> ServiceRequest:
    """The head hands a written request to another consultant of the service."""
    user = _require_role(actor, Action.WRITTEN_ASSIGN, _("Only the head may reassign requests."))
    require_works_for(user, request.service)
    # An active consultant of the service: one who has a consultant's day in it.
    if not policy.can(consultant, Action.CONSULTATION_DAY, service=request.service):
        raise DomainError(
            _("Choose an active consultant of this service."), code="invalid_consultant"
        )
    locked = service_request_select_for_update().get(pk=request.pk)
    previous = locked.assigned_to_id
    locked.assigned_to = consultant
    locked.save(update_fields=["assigned_to", "updated_at"])
    audit_record(
        actor=user,
        event_type=AuditEventType.MAIL_REQUEST_ASSIGNED,
        subject=locked,
        extra={"from": previous, "to": consultant.pk},
    )
    return locked


@transaction.atomic
def thread_read_record(*, actor: Actor, request: ServiceRequest) -> None:
    """Opening a thread shows a client's letters: the read is audited (no content)."""
    audit_record(actor=actor, event_type=AuditEventType.MAIL_THREAD_VIEWED, subject=request)


# --- Written consultations (issue 12) ---------------------------------------------------------------

ANSWER_MAX_FILES = 5
ANSWER_FILE_MAX_BYTES = 10 * 1024 * 1024


def _check_files(files: Sequence[UploadedFile[bytes]]) -> None:
    if len(files) > ANSWER_MAX_FILES:
        raise DomainError(
            _("At most %(n)d files with one answer.") % {"n": ANSWER_MAX_FILES}, code="files"
        )
    for upload in files:
        if (upload.size or 0) > ANSWER_FILE_MAX_BYTES:
            raise DomainError(
                _("The file %(name)s is larger than 10 MB.") % {"name": upload.name},
                code="files",
            )


def written_take_up(*, actor: Actor, request: ServiceRequest) -> Consultation:
    """The responsible consultant takes the thread up as a consultation (one per request).

    A thread another consultant holds, or one taken up already, gets a clear message."""
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
    existing = selectors.written_consultation(request=request)
    if existing is not None:
        raise DomainError(
            _("This thread is already taken up as a consultation."), code="already_taken"
        )
    return consultation_take_written(actor=actor, request=request, form="email")


def written_close(*, actor: Actor, request: ServiceRequest) -> Consultation:
    """The written consultation is answered: closed, its protocol comes next."""
    consultation = selectors.written_consultation(request=request)
    if consultation is None:
        raise DomainError(_("This thread is not taken up as a consultation."), code="not_taken")
    if not OutgoingLetter.objects.filter(request=request, author_id=actor.pk).exists():
        raise DomainError(_("Send an answer before closing the consultation."), code="no_answer")
    return consultation_close_written(actor=actor, consultation=consultation)
