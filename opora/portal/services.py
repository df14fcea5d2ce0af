"""Writes of the public portal: a request from the site, stored before the page says "received".

The request itself is registered by `intake.services.request_create` (codes, token, anonymity,
eligibility); this module adds how the client wants the answer and which language they used.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from opora.accounts.models import User
from opora.consultations.services import consultation_for_booking
from opora.core.actors import ClientActor
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import Conflict, DomainError
from opora.core.models import Service
from opora.intake.models import Channel, ConsentText, ServiceRequest
from opora.intake.selectors import request_contact_differences
from opora.intake.services import (
    CHECK_MAX_AGE,
    client_contacts_confirm_from_request,
    request_create,
)
from opora.notifications.services import notification_create
from opora.portal import locks
from opora.portal.models import MESSENGERS, ContactConfirmation, PortalSubmission, ReplyChannel
from opora.registry.iin import IINError, validate_iin
from opora.registry.models import EligibilityCheck
from opora.registry.services import eligibility_check
from opora.scheduling import services as scheduling
from opora.scheduling.models import Booking
from opora.scheduling.selectors import slots_free_at


@dataclass(frozen=True)
class PortalRequest:
    """What the client typed, already parsed by the form."""

    is_anonymous: bool = False
    full_name: str = ""
    iin: str = ""
    phone: str = ""
    email: str = ""
    reply_channel: str = ReplyChannel.EMAIL
    reply_contact: str = ""
    requester_kind: str = ""
    child_age: int | None = None
    typical_question: str = ""
    reason: str = ""
    preferred_form: str = ""
    topic: str = ""
    special_consent: bool = False


class Ineligible(DomainError):
    """The online ЦБД/ЦБДИ check did not confirm the client (the refusal is on record)."""

    code = "ineligible"


def _language() -> str:
    lang = (get_language() or "ru")[:2]
    return lang if lang in ("ru", "kk", "en") else "ru"


def _check_reply(data: PortalRequest) -> None:
    """The contact the chosen answer channel needs must be there (named requests only)."""
    channel = data.reply_channel
    if channel == ReplyChannel.EMAIL and not data.email.strip():
        raise DomainError(
            _("Enter your e-mail address: you asked for the answer by e-mail."),
            code="email_required",
        )
    if channel in (ReplyChannel.PHONE, ReplyChannel.WHATSAPP, ReplyChannel.VIBER) and not (
        data.phone.strip()
    ):
        raise DomainError(
            _("Enter your phone number: you asked for the answer by phone or messenger."),
            code="phone_required",
        )
    if channel == ReplyChannel.TELEGRAM and not (data.phone.strip() or data.reply_contact.strip()):
        raise DomainError(
            _("Enter your Telegram user name or your phone number."),
            code="reply_contact_required",
        )


# A form key as the request form renders it (`form_key_new`); anything else is ignored.
FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def form_key_new() -> str:
    """A fresh key for one rendering of the request form (its hidden `form_key` field)."""
    return secrets.token_urlsafe(24)


def form_key_clean(value: str | None) -> str | None:
    """The posted key if it has the shape `form_key_new` gives, else None (no idempotency)."""
    value = (value or "").strip()
    return value if FORM_KEY.match(value) else None


class FormAlreadySent(DomainError):
    """The form with this key made a request already, and what was sent now is different."""

    code = "form_already_sent"


def portal_request_submit(
    *,
    service: Service,
    data: PortalRequest,
    consent: ConsentText | None,
    form_key: str | None = None,
) -> ServiceRequest:
    """Register a request sent from the portal and what the portal adds to it.

    Named requests need the consent to personal-data processing (stored with its version and
    time). Where the service checks eligibility, the online check runs first, outside the
    request's transaction so that a refusal stays on record; `Ineligible` then carries no
    details of why (the public page must not tell a stranger what the registry holds).

    Idempotent by `form_key` (made when the form was shown): a double tap, a resent form or
    five identical sends at once make one request, and each gets that request back — the
    database's unique key decides a race. The same key with different contents (the form
    changed after it was sent) raises `FormAlreadySent`, never another client's request.
    """
    if form_key is not None:
        existing = _request_of_form(form_key, service=service, data=data)
        if existing is not None:
            return existing
    data, consent = _prepare(data, consent)
    check = None
    if service.requires_eligibility and not data.is_anonymous:
        check = _eligibility(service=service, iin=data.iin, full_name=data.full_name)
    try:
        with transaction.atomic():
            return _register(
                service=service, data=data, consent=consent, check=check, form_key=form_key
            )
    except IntegrityError:
        # The same form sent twice at once: the other send made the request.
        existing = _request_of_form(form_key, service=service, data=data) if form_key else None
        if existing is None:
            raise
        return existing


def _same_words(a: str, b: str) -> bool:
    return " ".join((a or "").split()) == " ".join((b or "").split())


def _digits(value: str) -> str:
    return "".join(c for c in value or "" if c.isdigit())


def _request_of_form(
    form_key: str, *, service: Service, data: PortalRequest
) -> ServiceRequest | None:
    """The request this form already made, or None; `FormAlreadySent` if it was for other text."""
    submission = (
        PortalSubmission.objects.filter(form_key=form_key).select_related("request").first()
    )
    if submission is None:
        return None
    request = submission.request
    same = (
        request.service_id == service.pk
        and request.is_anonymous == data.is_anonymous
        and _same_words(request.reason, data.reason)
        and (
            data.is_anonymous
            or (
                _same_words(request.full_name, data.full_name)
                and _digits(request.phone) == _digits(data.phone)
                and request.email == (data.email or "").strip()
            )
        )
    )
    if not same:
        raise FormAlreadySent(
            _(
                "This form has been sent already, with other details. Check what you typed "
                "and send it once more: it will be a new request."
            )
        )
    return request


def _prepare(
    data: PortalRequest, consent: ConsentText | None
) -> tuple[PortalRequest, ConsentText | None]:
    """Anonymous: strip every personal field. Named: the consent and the reply contact."""
    if data.is_anonymous:
        # Regulation 004: an anonymous client gives no personal data at all; they follow the
        # request through its private link.
        data = PortalRequest(
            is_anonymous=True,
            reply_channel=ReplyChannel.PRIVATE_LINK,
            requester_kind=data.requester_kind,
            child_age=data.child_age,
            typical_question=data.typical_question,
            reason=data.reason,
            preferred_form=data.preferred_form,
            topic=data.topic,
        )
        consent = None
    else:
        if consent is None:
            raise DomainError(
                _("Please agree to the processing of your personal data."),
                code="consent_required",
            )
        _check_reply(data)
    return data, consent


def _register(
    *,
    service: Service,
    data: PortalRequest,
    consent: ConsentText | None,
    check: EligibilityCheck | None,
    draft_key: str | None = None,
    form_key: str | None = None,
) -> ServiceRequest:
    """The request and its portal submission (inside the caller's transaction)."""
    request = request_create(
        actor=None,
        service=service,
        full_name=data.full_name,
        iin=data.iin,
        phone=data.phone,
        email=data.email,
        reason=data.reason,
        channel=Channel.PORTAL,
        eligibility_check=check,
        is_anonymous=data.is_anonymous,
        requester_kind=data.requester_kind,
        child_age=data.child_age,
        typical_question=data.typical_question,
        preferred_form=data.preferred_form,
        topic=data.topic,
        consent=consent,
        special_consent=data.special_consent,
    )
    submission = PortalSubmission(
        request=request,
        reply_channel=data.reply_channel,
        reply_contact=(data.reply_contact.strip() if data.reply_channel in MESSENGERS else ""),
        language=_language(),
        draft_key=draft_key,
        form_key=form_key,
    )
    submission.full_clean(validate_unique=False)
    submission.save()
    return request


def _eligibility(*, service: Service, iin: str, full_name: str) -> EligibilityCheck:
    """Run the registry check for a portal client; raise `Ineligible` with a neutral refusal."""
    if not " ".join((full_name or "").split()):
        raise DomainError(_("Enter your full name."), code="full_name_required")
    if not (iin or "").strip():
        raise DomainError(
            _("Enter the IIN: this service checks it in the ЦБД/ЦБДИ registries."),
            code="iin_required",
        )
    try:
        iin = validate_iin(iin)
    except IINError as err:
        raise DomainError(err.message, code="invalid_iin") from None
    result = eligibility_check(actor=None, service=service, iin=iin, full_name=full_name)
    if not result.eligible:
        raise Ineligible(portal_refusal_text(service))
    return result.check


def portal_refusal_text(service: Service) -> str:
    """The portal's refusal after a negative check: polite, the same for every reason."""
    text = _(
        "We are sorry: we could not confirm your data in the ЦБД/ЦБДИ registries, so we cannot "
        "book a consultation online. Please check that the IIN and the full name are exactly as "
        "in your identity document and try once more."
    )
    if service.public_phone:
        text += " " + _(
            "If you think this is a mistake, call %(phone)s: an operator will help you."
        ) % {"phone": service.public_phone}
    return text


# --- self-booking: a time, not a consultant -----------------------------------------------------


def booking_draft_start(
    *, service: Service, data: PortalRequest, consent: ConsentText | None
) -> EligibilityCheck | None:
    """Self-booking, step 1: check what the client typed and, where the service requires it, run
    the online registry check (stored, like every check). Nothing else is written: the request
    is made at step 2 (`booking_draft_complete`). Returns the positive check, if any.
    """
    data, consent = _prepare(data, consent)
    if service.requires_eligibility:
        return _eligibility(service=service, iin=data.iin, full_name=data.full_name)
    return None


def booking_at_time(
    *,
    request: ServiceRequest,
    starts_at: dt.datetime,
    consultant: User | None = None,
    booking: Booking | None = None,
) -> Booking:
    """Book (or move `booking` to) any free consultant at `starts_at` for the client: the
    least-loaded one first (`slots_free_at`); if that slot is taken meanwhile, the next one.
    `Conflict` when nobody is free at that time any more. The room exists from the booking on.
    """
    service = request.service
    if consultant is not None and not service.allows_choosing_consultant:
        consultant = None
    actor = ClientActor(request_id=request.pk)
    # Issue 12: a consultant competent for the request's topic and language first, if free then.
    free = slots_free_at(
        service=service,
        starts_at=starts_at,
        consultant=consultant,
        topic=request.topic,
        language=request.language,
    )
    for slot in free:
        try:
            with transaction.atomic():
                if booking is None:
                    done = scheduling.booking_create(actor=actor, request=request, slot=slot)
                else:
                    done = scheduling.booking_reschedule(actor=actor, booking=booking, slot=slot)
        except Conflict as err:
            if err.code != "slot_taken":
                raise
            continue
        consultation_for_booking(booking=done)
        return done
    raise Conflict(_("This time has just been taken; pick another slot"), code="slot_taken")


def booking_draft_complete(
    *,
    service: Service,
    key: str,
    data: PortalRequest,
    consent: ConsentText | None,
    check_id: int | None,
    starts_at: dt.datetime,
    consultant: User | None = None,
) -> ServiceRequest:
    """Self-booking, step 2: the request and its booking, in one transaction — or nothing.

    Idempotent by the draft's `key`: a repeated (or concurrent) submit of the same draft returns
    the request the first one made. `Conflict` when the time is no longer free (no request is
    left behind). A registry check older than the intake's limit is run again first, outside
    the transaction, so that a refusal stays on record.
    """
    existing = _request_of_draft(key)
    if existing is not None:
        return existing
    data, consent = _prepare(data, consent)
    check = None
    if service.requires_eligibility:
        check = (
            EligibilityCheck.objects.filter(pk=check_id, service=service, eligible=True).first()
            if check_id is not None
            else None
        )
        if check is None or check.created_at < timezone.now() - CHECK_MAX_AGE:
            check = _eligibility(service=service, iin=data.iin, full_name=data.full_name)
    try:
        with transaction.atomic():
            request = _register(
                service=service, data=data, consent=consent, check=check, draft_key=key
            )
            booking_at_time(request=request, starts_at=starts_at, consultant=consultant)
    except IntegrityError:
        # The same draft submitted twice at once: the other submit made the request.
        existing = _request_of_draft(key)
        if existing is None:
            raise
        return existing
    request.refresh_from_db()
    return request


def _request_of_draft(key: str) -> ServiceRequest | None:
    submission = (
        PortalSubmission.objects.filter(draft_key=key).select_related("request__service").first()
    )
    return submission.request if submission is not None else None


# --- the client confirms new contacts with a code sent to the contact on record -------------------

CODE_TTL = dt.timedelta(minutes=10)
CODE_ATTEMPTS = 5
CODES_PER_HOUR = 3


def _code_hash(code: str, salt: str) -> str:
    return salted_hmac("opora.portal.contact_confirmation", f"{salt}:{code}").hexdigest()


def contact_confirmation_via(request: ServiceRequest) -> str:
    """How a code would reach the client's card contact: "sms", "email" or "" (none on record)."""
    client = request.client
    if client is None:
        return ""
    if client.phone:
        return "sms"
    return "email" if client.email else ""


def contact_confirmation_open(request: ServiceRequest) -> ContactConfirmation | None:
    """The code sent last for this request, while it may still be entered."""
    latest = (
        ContactConfirmation.objects.filter(request=request, confirmed_at__isnull=True)
        .order_by("-created_at", "-pk")
        .first()
    )
    if latest is None or latest.expires_at <= timezone.now() or latest.attempts >= CODE_ATTEMPTS:
        return None
    return latest


def contact_confirmation_send(*, request: ServiceRequest) -> ContactConfirmation:
    """Send a one-time code to the contact already on the client's card (never to the contacts
    given with the request), so that the client may confirm the new ones are theirs.

    At most CODES_PER_HOUR codes per request an hour (the card's owner is not to be flooded).
    The code itself is stored only as a keyed hash; the message is a stored notification.
    """
    actor = ClientActor(request_id=request.pk)
    with transaction.atomic():
        locked = (
            locks.service_request_qs_select_for_update()
            .select_related("client", "service", "region", "client__region")
            .get(pk=request.pk)
        )
        if not request_contact_differences(request=locked):
            raise DomainError(
                _("Your details are already the ones we have on record."),
                code="nothing_to_confirm",
            )
        via = contact_confirmation_via(locked)
        if not via:
            raise DomainError(
                _(
                    "We have no phone or e-mail on record to send a code to: the service's staff "
                    "will check your new details with you."
                ),
                code="no_contact_on_record",
            )
        since = timezone.now() - dt.timedelta(hours=1)
        if (
            ContactConfirmation.objects.filter(request=locked, created_at__gte=since).count()
            >= CODES_PER_HOUR
        ):
            raise DomainError(
                _("Too many codes were sent for this request in the last hour. Try again later."),
                code="too_many_codes",
            )
        code = f"{secrets.randbelow(10**6):06d}"
        salt = secrets.token_hex(8)
        confirmation = ContactConfirmation(
            request=locked,
            code_hash=_code_hash(code, salt),
            salt=salt,
            sent_via=via,
            expires_at=timezone.now() + CODE_TTL,
        )
        confirmation.full_clean()
        confirmation.save()
        client = locked.client
        assert client is not None  # `via` is a contact of the client's card
        notification_create(
            channel=via,
            recipient=client.phone if via == "sms" else client.email,
            subject=_("Confirmation code"),
            body=_(
                "%(code)s is your code to confirm new contact details for %(service)s. It is "
                "valid for %(minutes)d minutes. If you did not ask for it, ignore this message: "
                "nothing will change."
            )
            % {
                "code": code,
                "service": locked.service.name,
                "minutes": int(CODE_TTL.total_seconds() // 60),
            },
            kind="contact_code",
            about=client,
            # The code is for the card's contact only, never a copy to the request's messenger.
            copy_to_messengers=False,
        )
        audit_record(
            actor=actor,
            event_type=AuditEventType.PORTAL_CONTACT_CODE_SENT,
            subject=locked,
            extra={"via": via},
        )
    return confirmation


def contact_confirmation_check(*, request: ServiceRequest, code: str) -> list[str]:
    """The client types the code: right, and the contacts given with the request go onto the
    card (audited); wrong, expired or tried too often, and a `DomainError` says which.
    Every attempt counts, wrong ones included. Returns the fields changed on the card."""
    code = "".join((code or "").split())
    with transaction.atomic():
        confirmation = contact_confirmation_open(request)
        if confirmation is not None:
            confirmation = locks.contact_confirmation_qs_select_for_update().get(pk=confirmation.pk)
        if (
            confirmation is None
            or confirmation.confirmed_at is not None
            or confirmation.expires_at <= timezone.now()
            or confirmation.attempts >= CODE_ATTEMPTS
        ):
            raise DomainError(
                _("The code has expired or was tried too many times: ask for a new one."),
                code="code_expired",
            )
        confirmation.attempts += 1
        right = len(code) == 6 and constant_time_compare(
            _code_hash(code, confirmation.salt), confirmation.code_hash
        )
        if right:
            confirmation.confirmed_at = timezone.now()
        confirmation.save(update_fields=["attempts", "confirmed_at"])
        if right:
            return client_contacts_confirm_from_request(
                actor=ClientActor(request_id=request.pk), request=request
            )
    # The attempt is counted (committed above) before the answer.
    raise DomainError(_("The code is not right. Check it and try again."), code="code_wrong")
