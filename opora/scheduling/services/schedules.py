"""Consultant schedules: save, submit, approve, return; approval materialises the slots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import (
    transaction,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.accounts.actors import StaffActor
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError
from opora.scheduling import locks
from opora.scheduling.calendar import ServiceCalendar, make_aware_local
from opora.scheduling.models import ConsultationForm, Place, Schedule, SchedulePeriod, Slot
from opora.scheduling.services._common import (
    SCHEDULE_APPROVERS,
    SCHEDULE_EDITORS,
    SCHEDULE_SUBMITTERS,
    ScheduleInvalid,
    _check_consultant,
    _editable_or_explain,
    _overlap_errors,
    _period_errors,
    _require,
)
from opora.scheduling.services.places import place_check, place_save_checked


def _planned(period: tuple[Any, ...]) -> tuple[Any, ...]:
    """`(date, start, end, topic, target group)`, the plan empty when not given."""
    return (*period[:3], *[*period[3:5], "", ""][:2])


@transaction.atomic
def schedule_save(
    *,
    actor: StaffActor,
    service: Any,
    consultant: Any,
    month: dt.date,
    periods: Sequence[tuple[Any, ...]],
) -> Schedule:
    """Create or replace the working periods of a consultant's month.

    A period is `(date, start, end)`, or `(date, start, end, topic, target group)` for a
    planned consultation of regulation 003 (published on the service's page).

    Every period must lie inside the month, on a working day of the service and inside its
    consultation hours. All problems are reported at once (`ScheduleInvalid`); nothing is written
    then. Only a draft or a returned schedule can be edited.
    """
    _require(
        actor,
        SCHEDULE_EDITORS,
        service=service,
        message=_("Only a coordinator, the head or an administrator may edit schedules."),
    )
    month = month.replace(day=1)
    _check_consultant(service, consultant)
    calendar = ServiceCalendar(service)
    periods = [_planned(p) for p in periods]
    errors: list[str] = []
    for date, start, end, *_plan in periods:
        errors += _period_errors(
            service=service, calendar=calendar, month=month, date=date, start=start, end=end
        )
    errors += _overlap_errors((d, s, e, "") for d, s, e, *_plan in periods)
    if errors:
        raise ScheduleInvalid(errors)

    schedule, created = locks.schedule_qs_select_for_update().get_or_create(
        service=service, consultant=consultant, month=month, defaults={"created_by": actor}
    )
    _editable_or_explain(schedule)
    if created:
        schedule.full_clean()
    schedule.periods.all().delete()
    rows = [
        SchedulePeriod(
            schedule=schedule,
            date=d,
            start_time=s,
            end_time=e,
            topic=(topic or "").strip(),
            target_group=(group or "").strip(),
        )
        for d, s, e, topic, group in sorted(periods)
    ]
    for row in rows:
        row.full_clean(exclude={"schedule"}, validate_unique=False, validate_constraints=False)
    SchedulePeriod.objects.bulk_create(rows)
    audit_record(
        actor=actor,
        event_type=AuditEventType.SCHEDULE_SAVED,
        subject=schedule,
        extra={"month": month.isoformat(), "periods": len(rows), "consultant_id": consultant.pk},
    )
    return schedule


def _lock_schedule(schedule: Schedule) -> Schedule:
    return (
        locks.schedule_qs_select_for_update(of_self=True)
        .select_related("service", "consultant")
        .get(pk=schedule.pk)
    )


@transaction.atomic
def schedule_submit(*, actor: StaffActor, schedule: Schedule) -> Schedule:
    """The coordinator sends a draft or returned schedule to the head for approval."""
    _require(
        actor,
        SCHEDULE_SUBMITTERS,
        service=schedule.service,
        message=_("Only a coordinator may submit schedules for approval."),
    )
    schedule = _lock_schedule(schedule)
    _editable_or_explain(schedule)
    schedule.status = Schedule.Status.SUBMITTED
    schedule.submitted_at = timezone.now()
    schedule.full_clean()
    schedule.save(update_fields=["status", "submitted_at"])
    audit_record(actor=actor, event_type=AuditEventType.SCHEDULE_SUBMITTED, subject=schedule)
    return schedule


def _materialise_slots(schedule: Schedule) -> tuple[int, int]:
    """Create the slots of an approved schedule; return (created, skipped periods).

    Slots start at each period's start and step by the service's slot length; only whole slots
    inside the consultation hours of a working day are made (the calendar may have changed since
    the schedule was saved). Existing slots of the consultant are kept.
    """
    service = schedule.service
    calendar = ServiceCalendar(service)
    step = dt.timedelta(minutes=service.slot_minutes)
    wanted: list[Slot] = []
    skipped = 0
    for period in schedule.periods.all():
        if not calendar.is_working_day(period.date):
            skipped += 1
            continue
        start = max(period.start_time, service.consultation_opens)
        end = min(period.end_time, service.consultation_closes)
        at = make_aware_local(service, period.date, start)
        stop = make_aware_local(service, period.date, end)
        while at + step <= stop:
            wanted.append(
                Slot(
                    service=service,
                    consultant_id=schedule.consultant_id,
                    schedule=schedule,
                    starts_at=at,
                    ends_at=at + step,
                )
            )
            at += step
    if not wanted:
        return 0, skipped
    existing = set(
        Slot.objects.filter(
            consultant_id=schedule.consultant_id,
            starts_at__gte=wanted[0].starts_at,
            starts_at__lte=wanted[-1].starts_at,
        ).values_list("starts_at", flat=True)
    )
    new = [s for s in wanted if s.starts_at not in existing]
    # ignore_conflicts: a slot made meanwhile for the same consultant (another service) wins.
    Slot.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    return len(new), skipped


@transaction.atomic
def schedule_approve(*, actor: StaffActor, schedule: Schedule) -> Schedule:
    """The head approves a submitted schedule; its slots become bookable."""
    _require(
        actor,
        SCHEDULE_APPROVERS,
        service=schedule.service,
        message=_("Only the head may approve schedules."),
    )
    schedule = _lock_schedule(schedule)
    if schedule.status != Schedule.Status.SUBMITTED:
        raise DomainError(
            _("Only a submitted schedule can be approved; this one is “%(status)s”.")
            % {"status": schedule.get_status_display()},
            code="schedule_not_submitted",
        )
    schedule.status = Schedule.Status.APPROVED
    schedule.approved_by = actor
    schedule.approved_at = timezone.now()
    schedule.full_clean()
    schedule.save(update_fields=["status", "approved_by", "approved_at"])
    created, skipped = _materialise_slots(schedule)
    audit_record(
        actor=actor,
        event_type=AuditEventType.SCHEDULE_APPROVED,
        subject=schedule,
        extra={"slots_created": created, "periods_skipped": skipped},
    )
    return schedule


@transaction.atomic
def schedule_return(*, actor: StaffActor, schedule: Schedule, comment: str) -> Schedule:
    """The head returns a submitted schedule to the coordinator with a comment on what to fix."""
    _require(
        actor,
        SCHEDULE_APPROVERS,
        service=schedule.service,
        message=_("Only the head may return schedules."),
    )
    comment = (comment or "").strip()
    if not comment:
        raise DomainError(
            _("Say what has to be changed: a comment is required."), code="comment_required"
        )
    schedule = _lock_schedule(schedule)
    if schedule.status != Schedule.Status.SUBMITTED:
        raise DomainError(
            _("Only a submitted schedule can be returned; this one is “%(status)s”.")
            % {"status": schedule.get_status_display()},
            code="schedule_not_submitted",
        )
    schedule.status = Schedule.Status.RETURNED
    schedule.comment = comment
    schedule.full_clean()
    schedule.save(update_fields=["status", "comment"])
    audit_record(actor=actor, event_type=AuditEventType.SCHEDULE_RETURNED, subject=schedule)
    return schedule


# --- Places and the form of slots -----------------------------------------------------------------


@transaction.atomic
def place_create(
    *, actor: StaffActor, service: Any, name: str, address: str = "", kind: str = Place.Kind.ROOM
) -> Place:
    """A room or an address of `service` where in-person consultations are held."""
    _require(
        actor, SCHEDULE_EDITORS, service=service, message=_("You are not allowed to manage places.")
    )
    place = Place(service=service, name=name.strip(), address=address.strip(), kind=kind)
    place_check(place)
    place_save_checked(place)
    audit_record(actor=actor, event_type=AuditEventType.PLACE_CREATED, subject=place)
    return place


@transaction.atomic
def slot_set_form(*, actor: StaffActor, slot: Slot, form: str, place: Place | None = None) -> Slot:
    """Offer a free slot in `form` (in person: in `place`, a room of the slot's service).

    A booked slot keeps its form: the client was told how to come."""
    slot = locks.slot_qs_select_for_update().select_related("service").get(pk=slot.pk)
    _require(
        actor,
        SCHEDULE_EDITORS,
        service=slot.service,
        message=_("You are not allowed to change slots."),
    )
    if slot.is_booked:
        raise DomainError(_("A booked slot keeps its form."), code="slot_booked")
    if form not in ConsultationForm.values:
        raise DomainError(_("Unknown form of consultation."), code="form")
    if place is not None and place.service_id != slot.service_id:
        raise DomainError(_("The place belongs to another service."), code="wrong_place")
    if form == ConsultationForm.IN_PERSON and place is None:
        raise DomainError(_("An in-person slot needs a room."), code="place")
    if place is not None and not place.is_active and place.pk != slot.place_id:
        raise DomainError(_("The place is out of use; choose another."), code="place")
    slot.form = form
    slot.place = place
    slot.save(update_fields=["form", "place"])
    audit_record(
        actor=actor,
        event_type=AuditEventType.SLOT_FORM_SET,
        subject=slot,
        extra={"form": form, "place_id": place.pk if place else None},
    )
    return slot
