"""Consents as records (152-FZ art. 9; art. 10 special categories; regulation 004 recording).

Every consent a client gives is a `ConsentRecord`: its kind, the text version agreed to, the time,
the channel and the request (and client) it covers. Withdrawal adds the time, the channel and who
recorded it, and stops what the consent covers:

- processing — the request's own consent; withdrawing it is recorded (the retention job then
  treats the request as past its term at the next run, see `opora/core/retention`);
- special (health and disability data) — the client's children's records are deleted (their IIN,
  name and birth date; requests keep only the age in years that counting needs), and no new child
  record is created for the client until a new special consent is given (`child_upsert` refuses);
- recording — the room refuses to start a recording and stops storing chunks
  (`consultations.selectors.recording_refusal` reads `consent_withdrawn`).

Writes and the small reads they need live together here; each write is audited (kind and
channel only, never a name).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opora.accounts.actors import Actor
from opora.accounts.models import User
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError
from opora.intake import locks
from opora.intake.models import (
    Channel,
    Child,
    Client,
    ConsentChannel,
    ConsentKind,
    ConsentRecord,
    ConsentText,
    ServiceRequest,
)
from opora.registry.iin import iin_birth_date

# The versions of the texts that are not `ConsentText` rows: the separate special-category
# consent on the request forms and the recording prompt in the room.
SPECIAL_CONSENT_VERSION = "special-2025-1"
RECORDING_CONSENT_VERSION = "recording-1"

SPECIAL_CONSENT_TEXT = _(
    "I separately consent in writing to the processing of data about my child's health and "
    "disability (disability group, registry status) for the purpose of this consultation. I may "
    "withdraw this consent at any time; the data are then deleted."
)

_REQUEST_CHANNEL_TO_CONSENT: dict[str, str] = {
    Channel.PORTAL: ConsentChannel.PORTAL,
    Channel.API: ConsentChannel.PORTAL,
    Channel.PHONE: ConsentChannel.PHONE,
    Channel.EMAIL: ConsentChannel.EMAIL,
    Channel.TELEGRAM: ConsentChannel.MESSENGER,
    Channel.WHATSAPP: ConsentChannel.MESSENGER,
    Channel.VIBER: ConsentChannel.MESSENGER,
    Channel.VK: ConsentChannel.MESSENGER,
    Channel.IN_PERSON: ConsentChannel.PAPER,
}


def consent_channel_for(request_channel: str) -> str:
    """The consent channel of a request's channel (a messenger is one channel for consents)."""
    return str(_REQUEST_CHANNEL_TO_CONSENT.get(request_channel, ConsentChannel.PHONE))


def _staff(actor: Actor | None) -> User | None:
    return actor if isinstance(actor, User) and actor.pk else None


def _check_channel(channel: str) -> None:
    if channel not in ConsentChannel.values:
        raise DomainError(_("Choose how the client told us."), code="consent_channel_invalid")


def consent_give(
    *,
    actor: Actor | None,
    request: ServiceRequest,
    kind: str,
    channel: str,
    text: ConsentText | None = None,
    text_version: str = "",
) -> ConsentRecord:
    """Record a consent of `kind` for `request`; the active one is returned if there is one.

    Call it inside the transaction of the change it allows. Audited (kind, channel, version)."""
    if kind not in ConsentKind.values:
        raise DomainError(_("Unknown kind of consent."), code="consent_kind_invalid")
    _check_channel(channel)
    version = text.version if text is not None else text_version
    if not version:
        version = {
            ConsentKind.SPECIAL: SPECIAL_CONSENT_VERSION,
            ConsentKind.RECORDING: RECORDING_CONSENT_VERSION,
        }.get(ConsentKind(kind), "")
    active = ConsentRecord.objects.filter(
        request=request, kind=kind, withdrawn_at__isnull=True
    ).first()
    if active is not None:
        return active
    record = ConsentRecord(
        kind=kind,
        request=request,
        client=request.client,
        text=text,
        text_version=version,
        given_at=timezone.now(),
        channel=channel,
        recorded_by=_staff(actor),
    )
    record.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        # Two answers at once (two tabs): the partial unique index kept one active record.
        return ConsentRecord.objects.get(request=request, kind=kind, withdrawn_at__isnull=True)
    audit_record(
        actor=actor,
        event_type=AuditEventType.CONSENT_GIVEN,
        subject=record,
        extra={"kind": kind, "channel": channel, "version": version, "request": request.pk},
    )
    return record


@transaction.atomic
def consent_withdraw(*, actor: Actor | None, record: ConsentRecord, channel: str) -> ConsentRecord:
    """Withdraw a consent (staff on the client's word, or the client on their private link) and
    stop what it covers (see the module's docstring). Withdrawing twice is refused."""
    _check_channel(channel)
    locked = locks.consent_record_qs_select_for_update().get(pk=record.pk)
    if locked.withdrawn_at is not None:
        raise DomainError(
            _("This consent has already been withdrawn."), code="consent_already_withdrawn"
        )
    locked.withdrawn_at = timezone.now()
    locked.withdrawn_channel = channel
    locked.withdrawn_by = _staff(actor)
    locked.full_clean(validate_constraints=False)
    locked.save(update_fields=["withdrawn_at", "withdrawn_channel", "withdrawn_by"])
    extra: dict[str, object] = {"kind": locked.kind, "channel": channel}
    if locked.kind == ConsentKind.SPECIAL:
        extra["children_deleted"] = _special_data_clear(locked)
    audit_record(
        actor=actor, event_type=AuditEventType.CONSENT_WITHDRAWN, subject=locked, extra=extra
    )
    return locked


def _special_data_clear(record: ConsentRecord) -> int:
    """Delete the health-related child records the withdrawn consent covered.

    The client's children go unless another request of theirs still holds an active special
    consent; the request's own link goes in any case. Returns how many child records went."""
    ServiceRequest.objects.filter(pk=record.request_id).update(child=None)
    client_id = record.client_id or record.request.client_id
    if client_id is None or special_consent_active(client_id=client_id):
        return 0
    deleted, _by_model = Child.objects.filter(client_id=client_id).delete()
    return deleted


def special_consent_active(*, client_id: int) -> bool:
    """Whether the client holds an active special-category consent on any request."""
    return ConsentRecord.objects.filter(
        client_id=client_id, kind=ConsentKind.SPECIAL, withdrawn_at__isnull=True
    ).exists()


def consent_active(*, request: ServiceRequest, kind: str) -> bool:
    return ConsentRecord.objects.filter(
        request=request, kind=kind, withdrawn_at__isnull=True
    ).exists()


def consent_withdrawn(*, request_id: int, kind: str) -> bool:
    """True when the request's consent of `kind` was given and withdrawn, with none active now."""
    records = ConsentRecord.objects.filter(request_id=request_id, kind=kind)
    return (
        records.filter(withdrawn_at__isnull=False).exists()
        and not records.filter(withdrawn_at__isnull=True).exists()
    )


def consent_records_for_request(*, request: ServiceRequest) -> list[ConsentRecord]:
    """The request's consent records, newest first (for its staff page and private page)."""
    return list(ConsentRecord.objects.filter(request=request).order_by("-given_at", "-pk"))


def child_upsert(*, client: Client, iin: str) -> Child:
    """The client's child with this IIN, created if new. A child's record is health-related data
    (the registries hold it because of the disability): it needs an active special consent."""
    if not special_consent_active(client_id=client.pk):
        raise DomainError(
            _("The client has not given the separate consent to processing of health data."),
            code="special_consent_required",
        )
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
