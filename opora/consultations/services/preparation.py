"""The consultant's preparation (regulation 002 §4.2): «за 30 минут до начала дистанционного
консультирования специалист … осуществляет проверку технического оборудования»."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.accounts.actors import Actor, User
from opora.consultations import selectors
from opora.consultations.models import Consultation, Preparation
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError

# The check opens this long before the start (regulation 002 §4.2).
PREPARATION_OPENS = dt.timedelta(minutes=30)
# What the measured network must reach for a video consultation.
NETWORK_MAX_RTT_MS = 500
NETWORK_MIN_MBIT = Decimal("1.0")


def preparation_problem(consultation: Consultation, *, now: dt.datetime | None = None) -> str:
    """Why the check cannot be made now ("" when it can): too early, over, closed or by phone."""
    now = now or timezone.now()
    slot = consultation.booking.slot
    if consultation.status not in (Consultation.Status.WAITING, Consultation.Status.IN_PROGRESS):
        return "closed"
    if consultation.mode == Consultation.Mode.PHONE:
        return "phone"
    if now < slot.starts_at - PREPARATION_OPENS:
        return "early"
    if now >= slot.ends_at:
        return "over"
    return ""


def network_good(rtt_ms: int | None, download_mbit: Decimal | None) -> bool:
    return (
        rtt_ms is not None
        and download_mbit is not None
        and rtt_ms <= NETWORK_MAX_RTT_MS
        and download_mbit >= NETWORK_MIN_MBIT
    )


@transaction.atomic
def preparation_record(
    *,
    actor: Actor,
    consultation: Consultation,
    camera_ok: bool,
    microphone_ok: bool,
    rtt_ms: int | None,
    download_mbit: Decimal | None,
    request_read: bool,
    protocols_read: bool,
    now: dt.datetime | None = None,
) -> Preparation:
    """Store one check by the booked consultant. The network is judged here from the measured
    values (round trip and download speed), not taken from the browser's verdict."""
    if not (isinstance(actor, User) and selectors.consultant_may_enter(actor, consultation)):
        raise PermissionDenied(_("Only the consultant booked for this consultation can do this."))
    problem = preparation_problem(consultation, now=now)
    if problem == "early":
        raise DomainError(
            _("The check opens 30 minutes before the consultation."), code="too_early"
        )
    if problem:
        raise DomainError(_("This consultation needs no check any more."), code=problem)
    network_ok = network_good(rtt_ms, download_mbit)
    preparation = Preparation(
        consultation=consultation,
        consultant=actor,
        camera_ok=bool(camera_ok),
        microphone_ok=bool(microphone_ok),
        network_ok=network_ok,
        rtt_ms=rtt_ms,
        download_mbit=download_mbit,
        request_read=bool(request_read),
        protocols_read=bool(protocols_read),
    )
    preparation.passed = all(
        (
            preparation.camera_ok,
            preparation.microphone_ok,
            network_ok,
            preparation.request_read,
            preparation.protocols_read,
        )
    )
    preparation.full_clean(exclude=["consultation", "consultant"])
    preparation.save()
    audit_record(
        actor=actor,
        event_type=AuditEventType.CONSULTATION_PREPARATION,
        subject=consultation,
        extra={"preparation_id": preparation.pk, "passed": preparation.passed},
    )
    return preparation


def preparation_failed_items(preparation: Preparation) -> list[str]:
    """The names of the items that failed, for the failure report's details."""
    items = [
        (preparation.camera_ok, _("camera")),
        (preparation.microphone_ok, _("microphone")),
        (preparation.network_ok, _("network")),
    ]
    return [str(name) for ok, name in items if not ok]
