"""Technical failures as regulation 002 §4.2.1 has them: the consultant reports the reason, the
head decides, the client is told at once.

reported ──accept(slot)──────────────▶ rebooked      (the head sets the new time)
    │     ──accept(consultant picks)─▶ accepted ──pick(slot)──▶ rebooked
    └─────reject(reason)─────────────▶ rejected

- On the report the attempt is closed (`failed`: not a service), the request waits for a new time
  (new), the heads are alerted and the client is told that a new time is coming, with their link.
- Accepted: the new booking is made through `scheduling.booking_reschedule` (the client is told the
  new date, time and link by it); the new consultation points to the failure (`reprovision_of`),
  so the re-provision is counted once (regulation 004).
- Rejected (the reason is not valid): the regulation gives a new date only for a valid reason, so
  none is given. Before the end of the booked time the consultation is held as booked: the room
  opens again, the request is booked again and the client is told it takes place as planned.
  After it the consultation stays not held — recorded as the consultant's fault (the failure is
  `rejected`, never a re-provision); the request stays in the queue for an ordinary booking, and
  the client keeps the notice that a new time is coming.

Every decision locks the failure's row, so two heads deciding at once make one decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.accounts import policy as access_policy
from opora.accounts.actors import Actor, User
from opora.accounts.policy import Action
from opora.consultations import locks, selectors
from opora.consultations.models import Consultation, TechnicalFailure
from opora.consultations.services.after import _lock, _notify_heads, _when
from opora.consultations.services.next_booking import slot_when
from opora.consultations.services.room import consultation_for_booking
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError
from opora.core.links import public_url
from opora.intake import services as intake
from opora.notifications.services import notification_create, notification_send_to_client
from opora.scheduling.models import Booking, Slot

if TYPE_CHECKING:
    from opora.core.models import Service
from opora.scheduling.services import booking_client_link, booking_reschedule

KIND_REPORTED = "technical_failure"
KIND_CLIENT_WAIT = "consultation_failed"
KIND_CLIENT_AS_PLANNED = "failure_rejected_as_planned"
KIND_CONSULTANT = "failure_decision"


def _is_head_of(actor: Actor, service: Service) -> bool:
    """The policy's `failure.decide` on the service: its head (or an administrator)."""
    return access_policy.can(actor, Action.FAILURE_DECIDE, service=service)


def _require_head(actor: Actor, failure: TechnicalFailure) -> User:
    """The head deciding (a staff member: the policy lets no client or system decide)."""
    if not (
        isinstance(actor, User) and _is_head_of(actor, failure.consultation.booking.slot.service)
    ):
        raise PermissionDenied(_("Only a head of the service decides on a technical failure."))
    return actor


def _lock_failure(failure: TechnicalFailure) -> TechnicalFailure:
    return (
        locks.technical_failure_qs_select_for_update()
        .select_related(
            "consultation__booking__slot__service",
            "consultation__booking__slot__consultant",
            "consultation__booking__request",
        )
        .get(pk=failure.pk)
    )


def _tell_client(
    *, consultation: Consultation, kind: str, subject: str, body: str, sms: str
) -> None:
    """A notice to the client on every channel they have, with their private link (the SMS in
    at most two parts, as the booking notices)."""
    booking = consultation.booking
    request = booking.request
    link = booking_client_link(request=request, booking=booking)
    notification_send_to_client(
        kind=kind,
        subject=subject,
        body=f"{body}\n{link}",
        sms_body=f"{sms} {link}",
        action_url=link,
        action_label=_("Open my request"),
        about=booking,
        phone=request.phone,
        email=request.email,
        contact_hint={"request_id": request.pk, "client_id": request.client_id},
    )


def _tell_consultant(*, failure: TechnicalFailure, body: str) -> None:
    consultant = failure.consultation.booking.slot.consultant
    if consultant.email:
        notification_create(
            channel="email",
            recipient=consultant.email,
            subject=str(_("The head's decision on a technical failure")),
            body=body,
            kind=KIND_CONSULTANT,
            about=failure,
            copy_to_messengers=False,
        )


def failures_url() -> str:
    return public_url(reverse("consultations:failures"))


@transaction.atomic
def technical_failure_report(
    *, actor: Actor, consultation: Consultation, cause: str, details: str = ""
) -> TechnicalFailure:
    """The consultant (or a head of the service) reports that the consultation cannot be held,
    with the reason (regulation 002 §4.2.1).

    The attempt is closed as `failed` (not a service), the request waits again for a new time,
    the heads are alerted at once with a link to their list of failures, and the client is told
    at once that a new time is coming. Nothing is rebooked until a head decides.
    """
    consultation = _lock(consultation)
    if not (
        isinstance(actor, User)
        and access_policy.can(actor, Action.CONSULTATION_REPORT_FAILURE, consultation)
    ):
        raise PermissionDenied(_("Only the consultant booked for this consultation can do this."))
    if consultation.status not in (Consultation.Status.WAITING, Consultation.Status.IN_PROGRESS):
        raise DomainError(_("The consultation is closed."), code="closed")
    if consultation.booking.status != Booking.Status.ACTIVE:
        raise DomainError(_("The booking of this consultation is no longer active."), code="moved")
    failure = TechnicalFailure(
        consultation=consultation, cause=cause, details=(details or "").strip(), reported_by=actor
    )
    failure.full_clean(exclude=["consultation", "reported_by", "rebooked"], validate_unique=False)
    try:
        with transaction.atomic():
            failure.save()
    except IntegrityError:
        raise DomainError(
            _("A technical failure of this consultation is already waiting for a decision."),
            code="failure_open",
        ) from None
    now = timezone.now()
    consultation.status = Consultation.Status.FAILED
    consultation.ended_at = now
    if consultation.started_at and consultation.started_at > now:
        consultation.started_at = now
    consultation.save(update_fields=["status", "ended_at", "started_at"])
    audit_record(
        actor=actor,
        event_type=AuditEventType.CONSULTATION_TECHNICAL_FAILURE,
        subject=consultation,
        extra={"cause": failure.cause, "failure_id": failure.pk},
    )
    # No new time yet: the same request waits for it (one request, counted once).
    intake.request_reopen_after_failure(
        actor=actor, request=consultation.booking.request, consultation_id=consultation.pk
    )
    _tell_client(
        consultation=consultation,
        kind=KIND_CLIENT_WAIT,
        subject=_("Your consultation is moved"),
        body=_(
            "Your consultation of %(when)s cannot take place for technical reasons. We will "
            "tell you the new date and time shortly; your request:"
        )
        % {"when": _when(consultation)},
        sms=_(
            "The consultation of %(when)s will not take place (technical reasons). New time soon:"
        )
        % {"when": _when(consultation)},
    )
    _notify_heads(
        consultation=consultation,
        kind=KIND_REPORTED,
        subject=str(_("Technical failure of a consultation")),
        body=str(
            _(
                "Consultant %(consultant)s reports a technical failure of consultation #%(id)s "
                "(%(when)s). Cause: %(cause)s. Decide whether the reason is valid and set the "
                "new time: %(url)s"
            )
            % {
                "consultant": consultation.booking.slot.consultant.display_name,
                "id": consultation.pk,
                "when": _when(consultation),
                "cause": failure.get_cause_display(),
                "url": failures_url(),
            }
        ),
    )
    return failure


def _moved_to(old: Booking) -> Booking:
    """The active booking a moved booking leads to, following the chain of reschedules."""
    current = old
    for _step in range(50):
        if current.status == Booking.Status.ACTIVE:
            return current
        if current.status != Booking.Status.RESCHEDULED or current.replaced_by_id is None:
            break
        current = Booking.objects.select_related("slot").get(pk=current.replaced_by_id)
    raise DomainError(
        _(
            "The booking of this consultation has been cancelled; there is no new time to "
            "set. Reject the failure to close it."
        ),
        code="booking_cancelled",
    )


def _rebook(*, actor: User, failure: TechnicalFailure, slot: Slot | None) -> TechnicalFailure:
    """Make the new booking of an accepted failure (both callers hold the failure's lock)."""
    old = Booking.objects.get(pk=failure.consultation.booking_id)
    if old.status == Booking.Status.ACTIVE:
        if slot is None:
            raise DomainError(_("Choose the new time."), code="no_slot")
        new = booking_reschedule(actor=actor, booking=old, slot=slot)
    else:
        # Moved meanwhile (the parent chose a new time on their page, or an operator moved it):
        # that booking is the re-provision; nothing is booked twice.
        new = _moved_to(old)
    again = consultation_for_booking(booking=new)
    Consultation.objects.filter(pk=again.pk, reprovision_of__isnull=True).update(
        reprovision_of=failure
    )
    failure.state = TechnicalFailure.State.REBOOKED
    failure.rebooked = new
    failure.decided_at = failure.decided_at or timezone.now()
    failure.decided_by = failure.decided_by or actor
    failure.save(update_fields=["state", "rebooked", "decided_at", "decided_by"])
    audit_record(
        actor=actor,
        event_type=AuditEventType.CONSULTATION_FAILURE_REBOOKED,
        subject=failure.consultation,
        extra={"failure_id": failure.pk, "rebooked_booking_id": new.pk},
    )
    return failure


@transaction.atomic
def technical_failure_accept(
    *,
    actor: Actor,
    failure: TechnicalFailure,
    slot: Slot | None = None,
    consultant_picks: bool = False,
) -> TechnicalFailure:
    """The head accepts the reason: either sets the new time now (`slot`) or lets the consultant
    pick it (`consultant_picks`). The client hears the new time from the booking's notice."""
    failure = _lock_failure(failure)
    head = _require_head(actor, failure)
    if failure.state != TechnicalFailure.State.REPORTED:
        raise DomainError(
            _("This failure has already been decided: %(state)s.")
            % {"state": failure.get_state_display()},
            code="decided",
        )
    # Moved meanwhile (the parent's own choice, an operator): accepting links that booking.
    moved = (
        Booking.objects.filter(pk=failure.consultation.booking_id)
        .exclude(status=Booking.Status.ACTIVE)
        .exists()
    )
    if slot is None and not consultant_picks and not moved:
        raise DomainError(_("Choose the new time, or let the consultant pick it."), code="no_slot")
    failure.decided_by = head
    failure.decided_at = timezone.now()
    failure.consultant_picks = slot is None and not moved
    failure.state = TechnicalFailure.State.ACCEPTED
    failure.save(update_fields=["decided_by", "decided_at", "consultant_picks", "state"])
    audit_record(
        actor=actor,
        event_type=AuditEventType.CONSULTATION_FAILURE_ACCEPTED,
        subject=failure.consultation,
        extra={"failure_id": failure.pk, "consultant_picks": failure.consultant_picks},
    )
    if slot is not None or moved:
        failure = _rebook(actor=head, failure=failure, slot=slot)
        rebooked = failure.rebooked
        assert rebooked is not None  # noqa: S101 - `_rebook` has just set it
        _tell_consultant(
            failure=failure,
            body=_("The head accepted the technical failure of %(when)s; the new time is %(new)s.")
            % {"when": _when(failure.consultation), "new": slot_when(rebooked.slot)},
        )
    else:
        _tell_consultant(
            failure=failure,
            body=_(
                "The head accepted the technical failure of %(when)s and lets you pick the new "
                "time: %(url)s"
            )
            % {
                "when": _when(failure.consultation),
                "url": public_url(reverse("consultations:failure_pick", args=[failure.pk])),
            },
        )
    return failure


@transaction.atomic
def technical_failure_pick_time(
    *, actor: Actor, failure: TechnicalFailure, slot: Slot
) -> TechnicalFailure:
    """The consultant (allowed by the head) or a head sets the new time of an accepted failure."""
    failure = _lock_failure(failure)
    consultation = failure.consultation
    if not isinstance(actor, User) or not (
        selectors.consultant_may_enter(actor, consultation)
        or _is_head_of(actor, consultation.booking.slot.service)
    ):
        raise PermissionDenied(_("Only the consultant booked for this consultation can do this."))
    if failure.state != TechnicalFailure.State.ACCEPTED:
        raise DomainError(
            _("The new time can be set only after the head has accepted the failure."),
            code="not_accepted",
        )
    return _rebook(actor=actor, failure=failure, slot=slot)


@transaction.atomic
def technical_failure_reject(
    *, actor: Actor, failure: TechnicalFailure, reason: str
) -> TechnicalFailure:
    """The head does not accept the reason (stated). Before the end of the booked time the
    consultation is held as booked (room open again, client told); after it, it stays not held
    through the consultant's fault and the request waits for an ordinary booking."""
    failure = _lock_failure(failure)
    head = _require_head(actor, failure)
    if failure.state != TechnicalFailure.State.REPORTED:
        raise DomainError(
            _("This failure has already been decided: %(state)s.")
            % {"state": failure.get_state_display()},
            code="decided",
        )
    failure.state = TechnicalFailure.State.REJECTED
    failure.rejection_reason = (reason or "").strip()
    failure.decided_by = head
    failure.decided_at = timezone.now()
    failure.full_clean(
        exclude=["consultation", "reported_by", "rebooked", "decided_by"], validate_unique=False
    )
    failure.save(update_fields=["state", "rejection_reason", "decided_by", "decided_at"])
    consultation = _lock(failure.consultation)
    booking = consultation.booking
    as_planned = (
        booking.status == Booking.Status.ACTIVE
        and booking.slot.ends_at > failure.decided_at
        and consultation.status == Consultation.Status.FAILED
    )
    if as_planned:
        consultation.status = (
            Consultation.Status.IN_PROGRESS
            if consultation.started_at is not None
            else Consultation.Status.WAITING
        )
        consultation.ended_at = None
        consultation.save(update_fields=["status", "ended_at"])
        intake.request_restore_after_failure(
            actor=actor, request=booking.request, consultation_id=consultation.pk
        )
        _tell_client(
            consultation=consultation,
            kind=KIND_CLIENT_AS_PLANNED,
            subject=_("Your consultation takes place as planned"),
            body=_("Your consultation of %(when)s takes place as planned. Join by your link:")
            % {"when": _when(consultation)},
            sms=_("The consultation of %(when)s takes place as planned:")
            % {"when": _when(consultation)},
        )
    audit_record(
        actor=actor,
        event_type=AuditEventType.CONSULTATION_FAILURE_REJECTED,
        subject=consultation,
        extra={"failure_id": failure.pk, "held_as_planned": as_planned},
    )
    _tell_consultant(
        failure=failure,
        body=(
            _(
                "The head did not accept the technical failure of %(when)s: hold the "
                "consultation as booked (by phone if need be). The head's reason: %(reason)s"
            )
            if as_planned
            else _(
                "The head did not accept the technical failure of %(when)s: it is recorded as "
                "not held. The head's reason: %(reason)s"
            )
        )
        % {"when": _when(consultation), "reason": failure.rejection_reason},
    )
    return failure
