"""Writes of the intake domain: clients and requests (заявки), regulation 000 §8–§10, 001 §3–§6."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.core.audit import audit_record
from opora.core.errors import DomainError
from opora.intake.models import Child, Client, ConsentText, RefusalGround, ServiceRequest
from opora.registry.iin import IINError, iin_birth_date, validate_iin
from opora.registry.models import EligibilityCheck, RegistrySource
from opora.registry.names import normalise_name_part, split_full_name
from opora.registry.services import eligibility_check as run_eligibility_check

# A check older than this is run again: the registry may have changed, and the caller is on the line.
CHECK_MAX_AGE = dt.timedelta(hours=1)

_PHONE_SEPARATORS = re.compile(r"[\s().\-\u2010-\u2015]")
_FULL_NAME_MAX = ServiceRequest._meta.get_field("full_name").max_length


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


def _check_is_reusable(check: EligibilityCheck, *, service: Any, iin: str, full_name: str) -> bool:
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


def client_upsert_from_request(
    *,
    actor: Any,
    iin: str,
    full_name: str,
    phone: str = "",
    phone_extra: str = "",
    email: str = "",
    region: Any = None,
) -> Client:
    """The Client with this IIN, created if new; contacts given now replace the stored ones.

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
    contacts = {"phone": phone, "phone_extra": phone_extra, "email": email, "region": region}
    with transaction.atomic():
        client = Client.objects.select_for_update().filter(iin=iin).first()
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
                client = Client.objects.select_for_update().get(iin=iin)
            else:
                audit_record(actor=actor, event_type="intake.client_created", subject=client)
                return client
        changed = [f for f, v in contacts.items() if v and getattr(client, f) != v]
        if changed:
            for field in changed:
                setattr(client, field, contacts[field])
            client.full_clean(validate_constraints=False)
            client.save(update_fields=changed)
            audit_record(
                actor=actor,
                event_type="intake.client_updated",
                subject=client,
                extra={"fields": sorted(changed)},
            )
        return client


def _child_upsert(*, client: Client, iin: str) -> Child:
    child = Child.objects.filter(client=client, iin=iin).first()
    if child is not None:
        return child
    child = Child(client=client, iin=iin, birth_date=iin_birth_date(iin))
    child.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            child.save()
    except IntegrityError:
        child = Child.objects.get(client=client, iin=iin)
    return child


def request_create(
    *,
    actor: Any,
    service: Any,
    full_name: str,
    iin: str = "",
    phone: str = "",
    phone_extra: str = "",
    email: str = "",
    region: Any = None,
    desired_at: dt.datetime | None = None,
    reason: str = "",
    channel: str = "phone",
    eligibility_check: Any = None,
    is_anonymous: bool = False,
    requester_kind: str = "",
    child_age: int | None = None,
    typical_question: str = "",
    preferred_form: str = "",
    consent: ConsentText | None = None,
    assigned_to: Any = None,
) -> ServiceRequest:
    """Register a request. Where the service requires eligibility, a fresh (or given) eligibility
    check must be positive for this IIN and name, else DomainError(code="ineligible").

    An anonymous request (where the service allows it, regulation 004) carries no name, IIN or
    region; the journal shows «Анонимно». Every request gets a short code and a private token
    the client can follow it with. A given consent text is stored with the time it was agreed to.

    The eligibility check runs (and is stored) before the request's own transaction, so that a
    refusal is on record even though nothing else is written. Call it outside an atomic block.
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
    if service.requires_eligibility:
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
            )
            if child_iin and child_iin != client_iin:
                child = _child_upsert(client=client, iin=child_iin)
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
            ),
        )
    return request


# No 0/O, 1/I/L: the code is read out on the phone and typed from a letter.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def _new_public_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def _register(*, actor: Any, request: ServiceRequest) -> ServiceRequest:
    """Store a new request and its audit record (inside the caller's transaction)."""
    request.status = ServiceRequest.Status.NEW
    request.created_by = actor if getattr(actor, "pk", None) else None
    # 31^8 codes: a collision is astronomically rare, and the unique index would still catch it.
    request.public_code = request.public_code or _new_public_code()
    request.public_token = request.public_token or secrets.token_urlsafe(32)
    request.full_clean()
    request.save()
    audit_record(
        actor=actor,
        event_type="intake.request_created",
        subject=request,
        extra={
            "service": request.service.code,
            "channel": request.channel,
            "eligibility_check": request.eligibility_check_id,
        },
    )
    return request


def _lock_new(request: ServiceRequest, *, action: str) -> ServiceRequest:
    locked = ServiceRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status != ServiceRequest.Status.NEW:
        raise DomainError(
            _("Only a new request can be %(action)s; this one is already “%(status)s”.")
            % {"action": action, "status": locked.get_status_display()},
            code="invalid_status",
        )
    return locked


@transaction.atomic
def request_refuse(
    *, actor: Any, request: ServiceRequest, ground: str, note: str = ""
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
        actor=actor, event_type="intake.request_refused", subject=locked, extra={"ground": ground}
    )
    return locked


@transaction.atomic
def request_redirect(*, actor: Any, request: ServiceRequest, referral_text: str) -> ServiceRequest:
    """Regulation 000 §10: the question is not the service's; record whom the caller was sent to."""
    referral_text = (referral_text or "").strip()
    if not referral_text:
        raise DomainError(
            _("Write whom the caller should contact and how."), code="referral_required"
        )
    locked = _lock_new(request, action=_("redirected"))
    locked.status = ServiceRequest.Status.REDIRECTED
    locked.refusal_ground = RefusalGround.OUT_OF_COMPETENCE
    locked.referral_text = referral_text
    locked.full_clean()
    locked.save(update_fields=["status", "refusal_ground", "referral_text", "updated_at"])
    audit_record(actor=actor, event_type="intake.request_redirected", subject=locked)
    return locked


@transaction.atomic
def request_refuse_check(
    *,
    actor: Any,
    service: Any,
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
