"""Writes of the intake domain: clients and requests (заявки), regulation 000 §8–§10, 001 §3–§6."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opora.accounts.access import require_works_for
from opora.accounts.actors import Actor
from opora.accounts.models import User
from opora.accounts.policy import Action, can, require
from opora.accounts.specialties import LanguageCode, TopicClass
from opora.core.actors import ClientActor
from opora.core.audit import AuditEventType, audit_record
from opora.core.crypto import blind_index
from opora.core.errors import DomainError, PermissionDenied
from opora.core.limits import max_length
from opora.core.models import Region, Service
from opora.core.sensitive import with_indexes
from opora.intake import consents, locks
from opora.intake.models import (
    Channel,
    Client,
    ConsentKind,
    ConsentRecord,
    ConsentText,
    Referral,
    RefusalGround,
    ServiceKind,
    ServiceRequest,
)
from opora.intake.selectors import NOT_A_SERVICE
from opora.notifications.services import notification_create
from opora.registry.iin import IINError, validate_iin
from opora.registry.models import EligibilityCheck, RegistrySource
from opora.registry.names import normalise_name_part, split_full_name
from opora.registry.services import eligibility_check as run_eligibility_check

# A check older than this is run again: the registry may have changed, and the caller is on the line.
CHECK_MAX_AGE = dt.timedelta(hours=1)

_PHONE_SEPARATORS = re.compile(r"[\s().\-\u2010-\u2015]")
_FULL_NAME_MAX = max_length(ServiceRequest, "full_name")


def normalise_phone(value: str) -> str:
    """Digits with an optional leading "+"; raises DomainError unless 10–15 digits. "" stays ""."""
    raw = (value or "").strip()
    if not raw:
        return ""
    compact = _PHONE_SEPARATORS.sub("", raw)
    plus = compact.startswith("+")
    digits = compact[1:] if plus else compact
    if not (digits.isascii() and digits.isdigit()) or not 10 <= len(digits) <= 15:
        raise DomainError(
            _(
                "Enter the phone number with 10 to 15 digits, for example +7 701 234 56 78; "
                "only digits, spaces, brackets, hyphens and a leading + are allowed."
            ),
            code="invalid_phone",
        )
    return ("+" if plus else "") + digits


def _clean_iin(iin: str) -> str:
    if not (iin or "").strip():
        return ""
    try:
        return validate_iin(iin)
    except IINError as err:
        raise DomainError(err.message, code="invalid_iin") from None


def _clean_full_name(full_name: str) -> str:
    cleaned = " ".join((full_name or "").split())
    if not cleaned:
        raise DomainError(_("Enter the caller's full name."), code="full_name_required")
    if len(cleaned) > _FULL_NAME_MAX:
        raise DomainError(
            _("The full name is too long (at most %(max)d characters).") % {"max": _FULL_NAME_MAX},
            code="full_name_too_long",
        )
    return cleaned


def _check_is_reusable(
    check: EligibilityCheck, *, service: Service, iin: str, full_name: str
) -> bool:
    return (
        check.eligible
        and check.service_id == service.pk
        and check.iin == iin
        and normalise_name_part(check.full_name) == normalise_name_part(full_name)
        and check.created_at >= timezone.now() - CHECK_MAX_AGE
    )


def _client_and_child_iins(check: EligibilityCheck | None, iin: str) -> tuple[str, str]:
    """Whose IIN was given: the caller's own, or their child's (regulation 001 §3.1 allows both)."""
    if check is None:
        return iin, ""
    record = check.matched_record
    if record is not None and record.source == RegistrySource.CBD:
        return record.iin, record.child_iin
    if check.reason == EligibilityCheck.Reason.ELIGIBLE_CBD and check.child_iin == iin:
        # The child's IIN was given and a remote registry left no local row naming the parent:
        # the caller's own IIN is unknown, so no Client is linked by IIN.
        return "", ""
    if check.child_iin and check.child_iin != iin:
        return iin, check.child_iin
    return iin, ""


# The contacts a request carries and a client's card keeps (regulation 001 §6: how to reach them).
CLIENT_CONTACT_FIELDS = ("phone", "phone_extra", "email", "region")


def client_upsert_from_request(
    *,
    actor: Actor | None,
    iin: str,
    full_name: str,
    phone: str = "",
    phone_extra: str = "",
    email: str = "",
    region: Region | None = None,
    update_contacts: bool = False,
) -> Client:
    """The Client with this IIN, created (with the contacts given) if new.

    A known client's stored contacts are kept: whoever knows an IIN and a name must not redirect
    the client's notices to themselves. The contacts given stay on the request; staff copy them
    to the card (`client_contacts_update_from_request`). Only `update_contacts` — staff typing
    what the client tells them on the phone — replaces them here, audited with the staff member.

    Two operators registering the same new caller at once end with one Client: the database's
    unique constraint decides, and the loser reads the winner's row.
    """
    try:
        last_name, first_name, patronymic = split_full_name(full_name)
    except ValueError:
        raise DomainError(
            _("Enter the last name and the first name (and the patronymic, if any)."),
            code="full_name_incomplete",
        ) from None
    editor = (
        _require_role(actor, Action.REQUEST_EDIT, _("You may not change a client's contacts."))
        if update_contacts
        else None
    )
    contacts = {"phone": phone, "phone_extra": phone_extra, "email": email, "region": region}
    with transaction.atomic():
        client = locks.client_qs_select_for_update().filter(iin=iin).first()
        if client is None:
            client = Client(
                iin=iin, last_name=last_name, first_name=first_name, patronymic=patronymic
            )
            for field, value in contacts.items():
                if value:
                    setattr(client, field, value)
            client.full_clean(validate_constraints=False)
            try:
                with transaction.atomic():
                    client.save()
            except IntegrityError:
                client = locks.client_qs_select_for_update().get(iin=iin)
            else:
                audit_record(
                    actor=actor, event_type=AuditEventType.INTAKE_CLIENT_CREATED, subject=client
                )
                return client
        if editor is not None:
            _client_contacts_set(actor=editor, client=client, contacts=contacts, via="phone")
        return client


def _client_contacts_set(
    *,
    actor: Actor,
    client: Client,
    contacts: dict[str, Any],
    via: str,
    request_id: int | None = None,
) -> list[str]:
    """Replace the card's contacts with the non-empty ones given; audited (field names only)."""
    changed = [f for f, v in contacts.items() if v and getattr(client, f) != v]
    if changed:
        for field in changed:
            setattr(client, field, contacts[field])
        client.full_clean(validate_constraints=False)
        client.save(update_fields=with_indexes(Client, changed))
        extra: dict[str, Any] = {"fields": sorted(changed), "via": via}
        if request_id is not None:
            extra["request"] = request_id
        audit_record(
            actor=actor,
            event_type=AuditEventType.INTAKE_CLIENT_UPDATED,
            subject=client,
            extra=extra,
        )
    return changed


def client_contacts_update_from_request(*, actor: Actor, request: ServiceRequest) -> list[str]:
    """Staff's explicit "update the card": the contacts given with this request (those that
    differ and are not empty) replace the client's stored ones. Returns the fields changed.

    The request's contacts came from whoever sent it (the portal, a letter, a messenger); a
    member of staff who has spoken to the client decides they are the client's own.
    """
    _require_role(actor, Action.REQUEST_EDIT, _("You may not change a client's contacts."))
    require_works_for(actor, request.service)
    with transaction.atomic():
        locked = ServiceRequest.objects.select_related("client").get(pk=request.pk)
        if locked.client_id is None:
            raise DomainError(_("This request is not linked to a client's card."), code="no_client")
        client = locks.client_qs_select_for_update().get(pk=locked.client_id)
        contacts = {f: getattr(locked, f) for f in CLIENT_CONTACT_FIELDS}
        return _client_contacts_set(
            actor=actor, client=client, contacts=contacts, via="request", request_id=locked.pk
        )


def client_contacts_confirm_from_request(*, actor: Actor, request: ServiceRequest) -> list[str]:
    """The client proved, with a code sent to the contact already on their card, that the
    contacts given with this request are theirs: they replace the card's (audited, via "code").

    `actor` is the client acting on this very request (a `ClientActor`); the caller (the portal)
    has checked the code. Returns the fields changed.
    """
    if not isinstance(actor, ClientActor) or actor.request_id != request.pk:
        raise PermissionDenied(_("You may not change a client's contacts."))
    with transaction.atomic():
        locked = ServiceRequest.objects.get(pk=request.pk)
        if locked.client_id is None:
            raise DomainError(_("This request is not linked to a client's card."), code="no_client")
        client = locks.client_qs_select_for_update().get(pk=locked.client_id)
        contacts = {f: getattr(locked, f) for f in CLIENT_CONTACT_FIELDS}
        return _client_contacts_set(
            actor=actor, client=client, contacts=contacts, via="code", request_id=locked.pk
        )


def request_create(
    *,
    actor: Actor | None,
    service: Service,
    full_name: str,
    iin: str = "",
    phone: str = "",
    phone_extra: str = "",
    email: str = "",
    region: Region | None = None,
    desired_at: dt.datetime | None = None,
    reason: str = "",
    channel: str = "phone",
    eligibility_check: EligibilityCheck | None = None,
    is_anonymous: bool = False,
    requester_kind: str = "",
    child_age: int | None = None,
    typical_question: str = "",
    preferred_form: str = "",
    consent: ConsentText | None = None,
    special_consent: bool = False,
    assigned_to: User | None = None,
    defer_eligibility: bool = False,
    update_client_contacts: bool = False,
    topic: str = "",
    language: str = "",
) -> ServiceRequest:
    """Register a request. Where the service requires eligibility, a fresh (or given) eligibility
    check must be positive for this IIN and name, else DomainError(code="ineligible").

    An anonymous request (where the service allows it, regulation 004) carries no name, IIN or
    region; the journal shows «Анонимно». Every request gets a short code and a private token
    the client can follow it with. A given consent text is stored with the time it was agreed to.

    The eligibility check runs (and is stored) before the request's own transaction, so that a
    refusal is on record even though nothing else is written. Call it outside an atomic block.
    With `defer_eligibility` (a written request) the check is left for the operator.

    A known client's card keeps its contacts: the ones given now stay on the request (notices
    about it go there), unless staff register it with `update_client_contacts` (the operator
    typing what the caller says on the phone).

    `actor` None: the public form, where nobody is signed in (the request then has no author).

    Consents become records (`intake.consents`): the processing consent given with the request,
    and `special_consent` — the separate written consent to processing health and disability
    data. A child's record (from the registries) is kept only under an active special consent;
    without it the request is registered without the child.
    """
    if is_anonymous:
        if not service.allows_anonymous or service.requires_eligibility:
            raise DomainError(
                _("This service cannot take anonymous requests: please give your name."),
                code="anonymous_not_allowed",
            )
        full_name, iin, region = "", "", None
    else:
        full_name = _clean_full_name(full_name)
    iin = _clean_iin(iin)
    phone = normalise_phone(phone)
    phone_extra = normalise_phone(phone_extra)
    email = (email or "").strip()
    if desired_at is not None and timezone.is_naive(desired_at):
        desired_at = timezone.make_aware(desired_at, service.tz)

    check: EligibilityCheck | None = None
    # A letter or a message registered on the day it arrives, before anyone could ask for the IIN:
    # the operator checks it later (`request_check_eligibility`), and it cannot be booked until then.
    if service.requires_eligibility and defer_eligibility:
        # No IIN until the check: an unchecked request of such a service is one without an IIN.
        iin = ""
    elif service.requires_eligibility:
        if not iin:
            raise DomainError(
                _("Enter the IIN: this service checks it in the ЦБД/ЦБДИ registries."),
                code="iin_required",
            )
        check = eligibility_check
        if check is None or not _check_is_reusable(
            check, service=service, iin=iin, full_name=full_name
        ):
            result = run_eligibility_check(
                actor=actor, service=service, iin=iin, full_name=full_name
            )
            check = result.check
            if not result.eligible:
                raise DomainError(result.message, code="ineligible")

    with transaction.atomic():
        client = child = None
        client_iin, child_iin = _client_and_child_iins(check, iin) if iin else ("", "")
        if client_iin:
            client = client_upsert_from_request(
                actor=actor,
                iin=client_iin,
                full_name=full_name,
                phone=phone,
                phone_extra=phone_extra,
                email=email,
                region=region,
                update_contacts=update_client_contacts,
            )
        request = _register(
            actor=actor,
            request=ServiceRequest(
                service=service,
                client=client,
                child=child,
                full_name=full_name,
                iin=iin,
                phone=phone,
                phone_extra=phone_extra,
                email=email,
                region=region,
                desired_at=desired_at,
                reason=(reason or "").strip(),
                channel=channel,
                eligibility_check=check,
                is_anonymous=is_anonymous,
                requester_kind=requester_kind or "",
                child_age=child_age,
                typical_question=typical_question or "",
                preferred_form=preferred_form or "",
                consent=consent,
                consented_at=timezone.now() if consent is not None else None,
                assigned_to=assigned_to,
                topic=topic or "",
                language=language or "",
            ),
        )
        consent_channel = consents.consent_channel_for(channel)
        if consent is not None:
            consents.consent_give(
                actor=actor,
                request=request,
                kind=ConsentKind.PROCESSING,
                channel=consent_channel,
                text=consent,
            )
        if special_consent and not is_anonymous:
            consents.consent_give(
                actor=actor, request=request, kind=ConsentKind.SPECIAL, channel=consent_channel
            )
        if (
            client is not None
            and child_iin
            and child_iin != client_iin
            and consents.special_consent_active(client_id=client.pk)
        ):
            request.child = consents.child_upsert(client=client, iin=child_iin)
            request.save(update_fields=["child"])
    return request


# No 0/O, 1/I/L: the code is read out on the phone and typed from a letter.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def _new_public_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def _register(*, actor: Actor | None, request: ServiceRequest) -> ServiceRequest:
    """Store a new request and its audit record (inside the caller's transaction)."""
    request.status = ServiceRequest.Status.NEW
    request.created_by = actor if isinstance(actor, User) and actor.pk else None
    # 31^8 codes: a collision is astronomically rare, and the unique index would still catch it.
    request.public_code = request.public_code or _new_public_code()
    request.public_token = request.public_token or secrets.token_urlsafe(32)
    request.full_clean()
    request.save()
    audit_record(
        actor=actor,
        event_type=AuditEventType.INTAKE_REQUEST_CREATED,
        subject=request,
        extra={
            "service": request.service.code,
            "channel": request.channel,
            "eligibility_check": request.eligibility_check_id,
        },
    )
    return request


def request_private_token(*, request: ServiceRequest) -> str:
    """The token of the request's private page (/s/r/<token>/), for the links in its notices.

    Every request is registered with one; one stored before private pages existed gets one here.
    """
    if not request.public_token:
        token = secrets.token_urlsafe(32)
        ServiceRequest.objects.filter(
            Q(public_token__isnull=True) | Q(public_token=""), pk=request.pk
        ).update(public_token=token, public_token_hash=blind_index("token", token))
        request.public_token = (
            ServiceRequest.objects.filter(pk=request.pk)
            .values_list("public_token", flat=True)
            .get()
        )
    assert request.public_token
    return request.public_token


def _lock_new(request: ServiceRequest, *, action: str) -> ServiceRequest:
    locked = locks.service_request_qs_select_for_update().get(pk=request.pk)
    if locked.status != ServiceRequest.Status.NEW:
        raise DomainError(
            _("Only a new request can be %(action)s; this one is already “%(status)s”.")
            % {"action": action, "status": locked.get_status_display()},
            code="invalid_status",
        )
    return locked


@transaction.atomic
def request_set_topic(
    *, actor: Actor, request: ServiceRequest, topic: str, language: str | None = None
) -> ServiceRequest:
    """Set the topic class (regulation 002, Appendix 3) of a request that came without one — a
    letter, a messenger conversation — so that assignment and the slot list prefer the
    consultants competent for it (issue 12). `language` None keeps the request's language.
    A finished request keeps its topic: the journal reads the protocol's."""
    require(actor, Action.REQUEST_SET_TOPIC, service=request.service)
    if topic not in TopicClass.values:
        raise DomainError(_("Choose one of the seven topics."), code="topic")
    if language is not None and language and language not in LanguageCode.values:
        raise DomainError(_("Choose a language of help from the list."), code="language")
    locked = (
        locks.service_request_qs_select_for_update().select_related("service").get(pk=request.pk)
    )
    if locked.status in FINISHED:
        raise DomainError(_("A finished request keeps its topic."), code="request_finished")
    before = locked.topic
    locked.topic = topic
    fields = ["topic", "updated_at"]
    if language is not None:
        locked.language = language
        fields.append("language")
    locked.full_clean()
    locked.save(update_fields=fields)
    audit_record(
        actor=actor,
        event_type=AuditEventType.INTAKE_REQUEST_TOPIC_SET,
        subject=locked,
        extra={"topic": topic, "before": before, "channel": locked.channel},
    )
    return locked


@transaction.atomic
def request_mark_anonymous(*, actor: Actor, request: ServiceRequest) -> ServiceRequest:
    """Make a request that came by e-mail or a messenger anonymous, as the portal's form does
    (regulation 004, issue 12): where the service allows anonymity, its name, IIN, region and
    child are cleared; the contacts stay (the answer goes there) and so does the code. The journal
    then shows «Анонимно».

    Only a request without a client card: a card means the client was identified (a registry
    check, an earlier request), and detaching it would leave the card's history pointing at a
    request that no longer names anyone — staff register a new anonymous request instead. Only
    before the request is finished.
    """
    require(actor, Action.REQUEST_MARK_ANONYMOUS, service=request.service)
    locked = (
        locks.service_request_qs_select_for_update().select_related("service").get(pk=request.pk)
    )
    service = locked.service
    if not service.allows_anonymous or service.requires_eligibility:
        raise DomainError(
            _("This service cannot take anonymous requests."), code="anonymous_not_allowed"
        )
    if locked.is_anonymous:
        raise DomainError(_("The request is already anonymous."), code="already_anonymous")
    if locked.client_id is not None:
        raise DomainError(
            _(
                "The request is linked to a client's card and cannot become anonymous; "
                "register a new anonymous request instead."
            ),
            code="has_client",
        )
    if locked.status in FINISHED or locked.status in (
        ServiceRequest.Status.REFUSED,
        ServiceRequest.Status.REDIRECTED,
    ):
        raise DomainError(_("A finished request cannot become anonymous."), code="request_finished")
    locked.is_anonymous = True
    locked.full_name, locked.iin, locked.region, locked.child = "", "", None, None
    locked.full_clean()
    locked.save(
        update_fields=with_indexes(
            ServiceRequest, ["is_anonymous", "full_name", "iin", "region", "child", "updated_at"]
        )
    )
    audit_record(
        actor=actor,
        event_type=AuditEventType.INTAKE_REQUEST_MARKED_ANONYMOUS,
        subject=locked,
        extra={"channel": locked.channel},
    )
    return locked


@transaction.atomic
def request_refuse(
    *, actor: Actor, request: ServiceRequest, ground: str, note: str = ""
) -> ServiceRequest:
    """Refuse a new request on a ground of regulation 000 §9–§10.

    For "outside the service's competence" the note is required: it is the referral the caller was
    given (§10) and is stored as the request's referral. For other grounds it is kept as the note.
    """
    if ground not in RefusalGround.values:
        raise DomainError(_("Choose a refusal ground from the list."), code="invalid_ground")
    note = (note or "").strip()
    if ground == RefusalGround.OUT_OF_COMPETENCE and not note:
        raise DomainError(
            _("Write whom the caller should contact: the question is outside our competence."),
            code="referral_required",
        )
    locked = _lock_new(request, action=_("refused"))
    locked.status = ServiceRequest.Status.REFUSED
    locked.refusal_ground = ground
    if ground == RefusalGround.OUT_OF_COMPETENCE:
        locked.referral_text = note
    else:
        locked.refusal_note = note
    locked.full_clean()
    locked.save(
        update_fields=["status", "refusal_ground", "referral_text", "refusal_note", "updated_at"]
    )
    audit_record(
        actor=actor,
        event_type=AuditEventType.INTAKE_REQUEST_REFUSED,
        subject=locked,
        extra={"ground": ground},
    )
    return locked


@transaction.atomic
def request_redirect(
    *, actor: Actor, request: ServiceRequest, referral_text: str
) -> ServiceRequest:
    """Regulation 000 §10: the question is not the service's; record whom the caller was sent to.

    A referral given is dispatcher consulting (regulation 004): counted as a service of that kind.
    """
    referral_text = (referral_text or "").strip()
    if not referral_text:
        raise DomainError(
            _("Write whom the caller should contact and how."), code="referral_required"
        )
    locked = _lock_new(request, action=_("redirected"))
    locked.status = ServiceRequest.Status.REDIRECTED
    locked.refusal_ground = RefusalGround.OUT_OF_COMPETENCE
    locked.referral_text = referral_text
    locked.kind = ServiceKind.DISPATCHER
    locked.full_clean()
    locked.save(update_fields=["status", "refusal_ground", "referral_text", "kind", "updated_at"])
    audit_record(actor=actor, event_type=AuditEventType.INTAKE_REQUEST_REDIRECTED, subject=locked)
    return locked


@transaction.atomic
def request_refuse_check(
    *,
    actor: Actor,
    service: Service,
    eligibility_check: EligibilityCheck,
    ground: str,
    note: str = "",
    referral_text: str = "",
) -> ServiceRequest:
    """Record a refusal right after a check (regulation 001 §3.3) as a refused request.

    The journal counts refusals among requests; no Client is created for a refused caller.
    """
    if eligibility_check.service_id != service.pk:
        raise DomainError(_("The check belongs to another service."), code="invalid_check")
    request = _register(
        actor=actor,
        request=ServiceRequest(
            service=service,
            full_name=eligibility_check.full_name,
            iin=eligibility_check.iin,
            eligibility_check=eligibility_check,
        ),
    )
    if referral_text.strip():
        return request_redirect(actor=actor, request=request, referral_text=referral_text)
    return request_refuse(actor=actor, request=request, ground=ground, note=note)


# --- Referrals: dispatcher consulting (regulation 000 §10, regulation 004) ----------------------

# Who keeps the referral directory, who may send a referral or count two requests as one: the
# access policy (opora.accounts.policy: referral.edit, referral.send, request.count).
REFERRAL_FIELDS = (
    "name",
    "helps_with",
    "country",
    "region",
    "phone",
    "email",
    "website",
    "address",
    "hours",
    "is_active",
)


def _require_role(actor: Actor | None, action: Action, message: str) -> User:
    """The staff member `actor`, if the access policy lets them take `action`."""
    if not (isinstance(actor, User) and can(actor, action)):
        raise PermissionDenied(message)
    return actor


def _referral_save(
    *, actor: Actor, referral: Referral, data: dict[str, Any], event: AuditEventType
) -> Referral:
    _require_role(
        actor, Action.REFERRAL_EDIT, _("Only the head may change the referral directory.")
    )
    unknown = set(data) - set(REFERRAL_FIELDS)
    if unknown:
        raise DomainError(_("Unknown field of the referral directory."), code="invalid_field")
    for field, value in data.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(referral, field, value)
    referral.country = (referral.country or "").upper()
    try:
        referral.full_clean()
    except ValidationError as err:
        problems = [
            f"{getattr(Referral._meta.get_field(f), 'verbose_name', f)}: {' '.join(m)}"
            if f in REFERRAL_FIELDS
            else " ".join(m)
            for f, m in err.message_dict.items()
        ]
        raise DomainError("; ".join(problems), code="invalid_referral") from None
    referral.save()
    audit_record(actor=actor, event_type=event, subject=referral, extra={"fields": sorted(data)})
    return referral


@transaction.atomic
def referral_create(*, actor: Actor, **data: Any) -> Referral:
    """Add an organisation to the referral directory (head or administrator)."""
    return _referral_save(
        actor=actor, referral=Referral(), data=data, event=AuditEventType.INTAKE_REFERRAL_CREATED
    )


@transaction.atomic
def referral_update(*, actor: Actor, referral: Referral, **data: Any) -> Referral:
    """Change a directory entry; `is_active=False` withdraws it (requests keep pointing at it)."""
    locked = locks.referral_qs_select_for_update().get(pk=referral.pk)
    return _referral_save(
        actor=actor, referral=locked, data=data, event=AuditEventType.INTAKE_REFERRAL_UPDATED
    )


def referral_message(referral: Referral) -> str:
    """The entry as the client reads it: organisation, what they help with, how to reach them."""
    lines = [referral.name, referral.helps_with.strip()]
    contacts = (
        (_("Phone"), referral.phone),
        (_("E-mail"), referral.email),
        (_("Website"), referral.website),
        (_("Address"), referral.address),
        (_("Hours"), referral.hours),
    )
    lines += [f"{label}: {value}" for label, value in contacts if value]
    return "\n".join(line for line in lines if line)


class ReferralVia(models.TextChoices):
    """How the client is told of the referral."""

    CHANNEL = "channel", gettext_lazy("The way the client came (e-mail or SMS)")
    EMAIL = "email", gettext_lazy("E-mail")
    SMS = "sms", gettext_lazy("SMS")
    NONE = "none", gettext_lazy("Told in the conversation, no message")


def _referral_recipient(request: ServiceRequest, via: str) -> tuple[str, str] | None:
    """(notification channel, address) for `via`, or None when there is nothing to send to."""
    if via == ReferralVia.NONE:
        return None
    if via == ReferralVia.EMAIL:
        return ("email", request.email) if request.email else None
    if via == ReferralVia.SMS:
        return ("sms", request.phone) if request.phone else None
    # The channel they came from: a letter is answered by letter; a call, a form or a messenger
    # by SMS (the messenger copy is added by notifications where a messenger app is installed).
    if request.channel == Channel.EMAIL and request.email:
        return "email", request.email
    if request.phone:
        return "sms", request.phone
    if request.email:
        return "email", request.email
    return None


@transaction.atomic
def referral_send(
    *, actor: Actor, request: ServiceRequest, referral: Referral, via: str = ReferralVia.CHANNEL
) -> ServiceRequest:
    """Dispatcher consulting: refer a new request to a directory entry and tell the client.

    The request becomes a service of the dispatcher kind (regulation 004), status «redirected»,
    with the entry's text as its referral (regulation 000 §10). The message to the client is
    stored in this transaction and delivered after commit; `via` "none" sends nothing (the
    operator read it out on the phone). Where there is no address for `via`, nothing is sent
    either: the caller sees it on the returned request (`notified` is False).
    """
    _require_role(actor, Action.REFERRAL_SEND, _("You may not send referrals."))
    require_works_for(actor, request.service)
    if via not in ReferralVia.values:
        raise DomainError(_("Choose how to tell the client."), code="invalid_via")
    entry = Referral.objects.filter(pk=referral.pk).first()
    if entry is None or not entry.is_active:
        raise DomainError(
            _("This organisation is no longer in the referral directory; choose another."),
            code="referral_inactive",
        )
    locked = _lock_new(request, action=_("redirected"))
    locked.status = ServiceRequest.Status.REDIRECTED
    locked.kind = ServiceKind.DISPATCHER
    locked.referral = entry
    locked.refusal_ground = RefusalGround.OUT_OF_COMPETENCE
    locked.referral_text = referral_message(entry)
    locked.full_clean()
    locked.save(
        update_fields=[
            "status",
            "kind",
            "referral",
            "refusal_ground",
            "referral_text",
            "updated_at",
        ]
    )
    recipient = _referral_recipient(locked, via)
    if recipient is not None:
        channel, address = recipient
        body = _(
            "Your request %(code)s: the question is dealt with by another organisation. "
            "Please contact:\n%(referral)s"
        ) % {"code": locked.public_code or locked.pk, "referral": locked.referral_text}
        notification_create(
            channel=channel,
            recipient=address,
            subject=_("Where to turn with your question"),
            body=body,
            kind="request_referral",
            about=locked,
            dedupe_key=f"request_referral:{locked.pk}:{channel}",
        )
    locked.notified = recipient is not None
    audit_record(
        actor=actor,
        event_type=AuditEventType.INTAKE_REQUEST_REFERRED,
        subject=locked,
        extra={
            "referral": entry.pk,
            "via": via,
            "notified": recipient[0] if recipient else None,
        },
    )
    return locked


# --- Counting (regulation 004) -------------------------------------------------------------------


@transaction.atomic
def request_count_with(
    *, actor: Actor, request: ServiceRequest, other: ServiceRequest
) -> ServiceRequest:
    """Regulation 004: both parents consulted on one question count as one service.

    The later of the two (its group, if it already has one) is pointed at the earliest request
    of both groups, so every group has one root and no chains: the root counts, the others don't.
    Both must be of the same service and be services (not refused or cancelled). Returns the
    root. Counting two requests that are already counted together changes nothing.
    """
    _require_role(actor, Action.REQUEST_COUNT, _("You may not change how requests are counted."))
    if request.pk == other.pk:
        raise DomainError(
            _("A request cannot be counted together with itself."), code="count_with_itself"
        )
    if request.service_id != other.service_id:
        raise DomainError(
            _("Only requests of the same service can be counted as one."),
            code="count_other_service",
        )
    require_works_for(actor, request.service)
    # The two requests first, then both groups, each in one order (by primary key), so that two
    # people merging at once queue rather than deadlock or leave a chain.
    pair = locks.service_request_qs_select_for_update().filter(pk__in=[request.pk, other.pk])
    roots = {r.counted_with_id or r.pk for r in pair.order_by("pk")}
    group = list(
        locks.service_request_qs_select_for_update()
        .filter(Q(pk__in=roots) | Q(counted_with_id__in=roots) | Q(pk__in=[request.pk, other.pk]))
        .order_by("pk")
    )
    by_pk = {r.pk: r for r in group}
    for r in (by_pk[request.pk], by_pk[other.pk]):
        if r.status in NOT_A_SERVICE:
            raise DomainError(
                _("Request No. %(num)s is “%(status)s”: it is not a service and is not counted.")
                % {"num": r.pk, "status": r.get_status_display()},
                code="count_not_a_service",
            )
    current = {r.counted_with_id or r.pk for r in (by_pk[request.pk], by_pk[other.pk])}
    root = min((by_pk[pk] for pk in current), key=lambda r: (r.created_at, r.pk))
    if len(current) == 1:
        return root
    moved = [r for r in group if (r.counted_with_id or r.pk) in current and r.pk != root.pk]
    for r in moved:
        r.counted_with = root
        r.full_clean()
        r.save(update_fields=["counted_with", "updated_at"])
    audit_record(
        actor=actor,
        event_type=AuditEventType.INTAKE_REQUEST_COUNTED_WITH,
        subject=root,
        extra={"requests": sorted(r.pk for r in moved)},
    )
    return root


@transaction.atomic
def request_count_separately(*, actor: Actor, request: ServiceRequest) -> ServiceRequest:
    """Undo a wrong "counted with": the request counts as a service of its own again."""
    _require_role(actor, Action.REQUEST_COUNT, _("You may not change how requests are counted."))
    require_works_for(actor, request.service)
    locked = locks.service_request_qs_select_for_update().get(pk=request.pk)
    if locked.counted_with_id is None:
        return locked
    previous = locked.counted_with_id
    locked.counted_with = None
    locked.save(update_fields=["counted_with", "updated_at"])
    audit_record(
        actor=actor,
        event_type=AuditEventType.INTAKE_REQUEST_COUNTED_SEPARATELY,
        subject=locked,
        extra={"was_counted_with": previous},
    )
    return locked


def request_check_eligibility(
    *, actor: Actor, request: ServiceRequest, iin: str, full_name: str
) -> ServiceRequest:
    """Regulation 001 §3: check a request registered before its check (e-mail, messenger).

    The check is stored whatever its answer (outside the request's transaction). If positive, the
    request gets the IIN, the name as the registry knows it and the check, and may be booked; if
    not, DomainError(code="ineligible") with the scripted answer, and the operator refuses it.
    """
    iin = _clean_iin(iin)
    full_name = _clean_full_name(full_name)
    if not iin:
        raise DomainError(
            _("Enter the IIN: this service checks it in the ЦБД/ЦБДИ registries."),
            code="iin_required",
        )
    result = run_eligibility_check(
        actor=actor, service=request.service, iin=iin, full_name=full_name
    )
    if not result.eligible:
        raise DomainError(result.message, code="ineligible")
    with transaction.atomic():
        locked = _lock_new(request, action=_("checked"))
        client_iin, child_iin = _client_and_child_iins(result.check, iin)
        client = client_upsert_from_request(
            actor=actor,
            iin=client_iin,
            full_name=full_name,
            phone=locked.phone,
            phone_extra=locked.phone_extra,
            email=locked.email,
            region=locked.region,
        )
        locked.client = client
        # Consents given before the check (a letter, a message) now cover the client too.
        ConsentRecord.objects.filter(request=locked, client__isnull=True).update(client=client)
        if (
            child_iin
            and child_iin != client_iin
            and consents.special_consent_active(client_id=client.pk)
        ):
            locked.child = consents.child_upsert(client=client, iin=child_iin)
        locked.iin, locked.full_name, locked.eligibility_check = iin, full_name, result.check
        locked.full_clean()
        locked.save(
            update_fields=with_indexes(
                ServiceRequest,
                ["client", "child", "iin", "full_name", "eligibility_check", "updated_at"],
            )
        )
        audit_record(
            actor=actor,
            event_type=AuditEventType.INTAKE_REQUEST_CHECKED,
            subject=locked,
            extra={"eligibility_check": result.check.pk},
        )
    return locked


# --- The lifecycle after booking: held, done, no-show, back to new; and "again" --------------------

# The statuses a request leaves the lifecycle in, from which "new request"/"book again" start.
FINISHED = (
    ServiceRequest.Status.DONE,
    ServiceRequest.Status.CANCELLED,
    ServiceRequest.Status.NO_SHOW,
)


def _lock_request(request: ServiceRequest) -> ServiceRequest:
    return locks.service_request_qs_select_for_update().select_related("service").get(pk=request.pk)


def _transition(
    *,
    actor: Actor,
    request: ServiceRequest,
    to: str,
    allowed_from: tuple[str, ...],
    event: AuditEventType,
    extra: dict[str, Any] | None = None,
) -> ServiceRequest:
    """Move a request to `to` under its row lock, audited in the caller's transaction.

    Already in `to`: nothing changes (a protocol corrected later closes nothing twice). From a
    status outside `allowed_from`: DomainError naming the status it is in.
    """
    locked = _lock_request(request)
    if locked.status == to:
        return locked
    if locked.status not in allowed_from:
        raise DomainError(
            _("The request is “%(status)s”; it cannot become “%(to)s”.")
            % {
                "status": locked.get_status_display(),
                "to": ServiceRequest.Status(to).label,
            },
            code="invalid_status",
        )
    previous = locked.status
    locked.status = to
    locked.full_clean()
    locked.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        event_type=event,
        subject=locked,
        extra={"from": previous, "to": to, **(extra or {})},
    )
    return locked


@transaction.atomic
def request_close(*, actor: Actor, request: ServiceRequest, consultation_id: int) -> ServiceRequest:
    """The consultation was held and its protocol written: the request is done (a service,
    regulation 004). Called by consultations in the protocol's own transaction."""
    return _transition(
        actor=actor,
        request=request,
        to=ServiceRequest.Status.DONE,
        allowed_from=(ServiceRequest.Status.BOOKED,),
        event=AuditEventType.INTAKE_REQUEST_DONE,
        extra={"consultation_id": consultation_id},
    )


@transaction.atomic
def request_mark_no_show(
    *, actor: Actor, request: ServiceRequest, consultation_id: int
) -> ServiceRequest:
    """The client did not come to the booked consultation: the request ends as a no-show (not a
    service, regulation 004); the parent may book again."""
    return _transition(
        actor=actor,
        request=request,
        to=ServiceRequest.Status.NO_SHOW,
        allowed_from=(ServiceRequest.Status.BOOKED,),
        event=AuditEventType.INTAKE_REQUEST_NO_SHOW,
        extra={"consultation_id": consultation_id},
    )


@transaction.atomic
def request_reopen_after_failure(
    *, actor: Actor, request: ServiceRequest, consultation_id: int
) -> ServiceRequest:
    """Regulation 002 §4.2.1: the consultation failed for technical reasons and no new time could
    be booked at once. The same request waits again in the queue (new) for a new time: it stays one
    request, counted once."""
    return _transition(
        actor=actor,
        request=request,
        to=ServiceRequest.Status.NEW,
        allowed_from=(ServiceRequest.Status.BOOKED,),
        event=AuditEventType.INTAKE_REQUEST_REOPENED,
        extra={"consultation_id": consultation_id, "why": "technical_failure"},
    )


@transaction.atomic
def request_restore_after_failure(
    *, actor: Actor, request: ServiceRequest, consultation_id: int
) -> ServiceRequest:
    """The head did not accept a technical failure reported before the consultation's end: the
    request waiting for a new time (new) is booked again on its same booking."""
    return _transition(
        actor=actor,
        request=request,
        to=ServiceRequest.Status.BOOKED,
        allowed_from=(ServiceRequest.Status.NEW,),
        event=AuditEventType.INTAKE_REQUEST_RESTORED,
        extra={"consultation_id": consultation_id, "why": "failure_rejected"},
    )


def request_client_fields(source: ServiceRequest) -> dict[str, Any]:
    """Who a request is from — name, IIN, contacts, region, anonymity, who asks, the child's age —
    to start another request for the same client (a new request, a repeat consultation)."""
    return {
        "full_name": source.full_name,
        "iin": source.iin,
        "phone": source.phone,
        "phone_extra": source.phone_extra,
        "email": source.email,
        "region": source.region,
        "is_anonymous": source.is_anonymous,
        "requester_kind": source.requester_kind,
        "child_age": source.child_age,
    }


def request_create_from(
    *, actor: Actor, source: ServiceRequest, channel: str = Channel.PHONE
) -> ServiceRequest:
    """A new request for the client of a finished one (cancelled, done or no-show): the client,
    name, IIN, contacts, region and who is asking are copied — not the status, the topic, the
    refusal or the counting. Each new request is a new service (regulation 004).

    Where the service checks eligibility the registry is asked again (a check of the last hour is
    reused), so `DomainError(code="ineligible")` may come back with the scripted answer. Call it
    outside an atomic block, like `request_create`.
    """
    _require_role(actor, Action.REQUEST_REGISTER, _("You may not register requests."))
    require_works_for(actor, source.service)
    source = ServiceRequest.objects.select_related("service", "eligibility_check").get(pk=source.pk)
    if source.status not in FINISHED:
        raise DomainError(
            _(
                "A new request is made from a cancelled, closed or no-show request; this one is "
                "“%(status)s”."
            )
            % {"status": source.get_status_display()},
            code="invalid_status",
        )
    service = source.service
    checked = bool(source.iin) or not service.requires_eligibility
    created = request_create(
        actor=actor,
        service=service,
        channel=channel,
        eligibility_check=source.eligibility_check,
        defer_eligibility=not checked,
        **request_client_fields(source),
    )
    audit_record(
        actor=actor,
        event_type=AuditEventType.INTAKE_REQUEST_CREATED_FROM,
        subject=created,
        extra={"source": source.pk},
    )
    return created
