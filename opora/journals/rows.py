"""Row builders of the journals: one list of cells per row, in the order of the form's columns.

The journals are views over requests, bookings and consultations (never a copy). Cells are the
service's Russian, whatever the interface language: the journal is the service's document.
Anonymous requests (regulation 004) read «Анонимно» in the name column; what identifies them is
their request code. A *coded* row (the general-use copy, regulation 004: personal data "кодируются
и вносятся ... под определенным кодом") carries the request's code in place of every person's name
and leaves out text written by or about the client.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone, translation

from opora.accounts.models import Role
from opora.consultations.models import FORM_IN_JOURNAL, Consultation, Topic
from opora.intake.models import ServiceForm, ServiceKind, ServiceRequest
from opora.intake.selectors import NOT_A_SERVICE
from opora.scheduling.calendar import local_day_bounds
from opora.scheduling.models import Booking, ConsultationForm, Schedule, SchedulePeriod

if TYPE_CHECKING:
    from typing_extensions import ReadOnly

ANONYMOUS = "Анонимно"  # regulation 004: the mark in the name column of an anonymous request


def _probe(known: Q, earlier: QuerySet[ServiceRequest], field: str) -> Case:
    """Whether an earlier request has the same `field`, asked only when the value is known: an
    empty phone or e-mail would match every earlier request without one, and the database would
    walk them for each row (a 100k-row export did not finish before the probes were guarded)."""
    return Case(
        When(known, then=Exists(earlier.filter(**{field: OuterRef(field)}))),
        default=Value(False),
        output_field=BooleanField(),
    )


def requests_queryset(
    *,
    service: Any,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    channel: str = "",
    status: str = "",
    consultant: Any = None,
) -> QuerySet[ServiceRequest]:
    """Requests of `service` registered in the period (service-local days), oldest first.

    `consultant` narrows to the requests assigned to or booked with one consultant (the caller
    narrows a consultant to themselves). No access check here: `journals.selectors` asks first.
    """
    qs = ServiceRequest.objects.filter(service=service)
    if consultant is not None:
        qs = qs.filter(
            Q(assigned_to=consultant)
            | Q(pk__in=Booking.objects.filter(slot__consultant=consultant).values("request_id"))
        )
    if date_from is not None:
        qs = qs.filter(created_at__gte=local_day_bounds(service, date_from)[0])
    if date_to is not None:
        qs = qs.filter(created_at__lt=local_day_bounds(service, date_to)[1])
    if channel:
        qs = qs.filter(channel=channel)
    if status:
        qs = qs.filter(status=status)
    earlier = ServiceRequest.objects.filter(
        service=OuterRef("service"), created_at__lt=OuterRef("created_at")
    )
    bookings = Booking.objects.select_related(
        "slot__consultant", "consultation", "consultation__protocol"
    ).order_by("-created_at", "-pk")
    return (
        qs.select_related("service", "assigned_to", "child", "referral", "counted_with")
        .prefetch_related(Prefetch("bookings", queryset=bookings))
        # "Primary or repeat" (регламент 002): an earlier request of the same person — the same
        # client, IIN, phone or e-mail. Each probe is used only when the value is known.
        .annotate(
            _earlier_client=_probe(~Q(client_id=None), earlier, "client_id"),
            # The values are encrypted: compared by their blind indexes.
            _earlier_iin=_probe(~Q(iin_bidx=""), earlier, "iin_bidx"),
            _earlier_phone=_probe(~Q(phone_bidx=""), earlier, "phone_bidx"),
            _earlier_email=_probe(~Q(email_bidx=""), earlier, "email_bidx"),
        )
        .order_by("created_at", "pk")
    )


# --- one request, read for the journals ----------------------------------------------------------


def _main_booking(request: ServiceRequest) -> Booking | None:
    """The booking the service was (or will be) given in: the one with a consultation held, else
    the active one."""
    bookings = list(request.bookings.all())
    for b in bookings:
        consultation = getattr(b, "consultation", None)
        if consultation is not None and consultation.status == "ended":
            return b
    return next((b for b in bookings if b.status == Booking.Status.ACTIVE), None)


def _consultation(booking: Booking | None) -> Any:
    if booking is None:
        return None
    consultation = getattr(booking, "consultation", None)
    return consultation if consultation is not None and consultation.status == "ended" else None


def _protocol(consultation: Any) -> Any:
    if consultation is None:
        return None
    try:
        return consultation.protocol
    except Exception:  # noqa: BLE001 - RelatedObjectDoesNotExist: no protocol written yet
        return None


def _local(service: Any, value: dt.datetime | None, fmt: str = "%d.%m.%Y %H:%M") -> str:
    return timezone.localtime(value, service.tz).strftime(fmt) if value else ""


def _code(request: ServiceRequest) -> str:
    return f"код {request.public_code or request.pk}"


def _name(request: ServiceRequest, *, coded: bool = False) -> str:
    if request.is_anonymous:
        return ANONYMOUS
    if coded:
        return _code(request)
    return (request.full_name or "").strip() or ANONYMOUS


def staff_code(pk: int) -> str:
    """A staff member in a coded copy: no person is named there."""
    return f"сотрудник № {pk}"


def _specialist(
    request: ServiceRequest, booking: Booking | None, *, position: bool, coded: bool = False
) -> str:
    person = booking.slot.consultant if booking is not None else request.assigned_to
    if person is None:
        return ""
    if coded:
        return staff_code(person.pk)
    if not position or not person.role:
        return person.display_name
    return f"{person.display_name} / {str(person.get_role_display()).lower()}"


def _child(request: ServiceRequest, protocol: Any, *, coded: bool = False) -> str:
    """«ФИО несовершеннолетнего, возраст»; for an anonymous request the code stands for the name."""
    age = request.child_age
    if age is None and protocol is not None:
        age = protocol.child_age
    name = ""
    if request.is_anonymous or coded:
        name = _code(request)
    elif request.child is not None and request.child.full_name:
        name = request.child.full_name
    elif protocol is not None and protocol.child_name:
        name = protocol.child_name
    age_text = f"{age} лет" if age is not None else ""
    return ", ".join(p for p in (name, age_text) if p)


def _is_repeat(request: ServiceRequest, protocol: Any) -> bool:
    if protocol is not None and protocol.kind:
        return protocol.kind == "repeat"
    return bool(
        (request.client_id and getattr(request, "_earlier_client", False))
        or (request.iin and getattr(request, "_earlier_iin", False))
        or (request.phone and getattr(request, "_earlier_phone", False))
        or (request.email and getattr(request, "_earlier_email", False))
    )


def _reason(request: ServiceRequest, *, coded: bool = False) -> str:
    if request.reason and not coded:
        return request.reason
    return str(request.get_typical_question_display()) if request.typical_question else ""


def requests_row(number: int, request: ServiceRequest, *, coded: bool = False) -> list:
    """A row of regulation 002 Appendix 2, in the order of its columns."""
    booking = _main_booking(request)
    protocol = _protocol(_consultation(booking))
    with translation.override("ru"):
        return [
            number,
            _local(request.service, request.created_at, "%d.%m.%Y"),
            str(request.get_requester_kind_display()) if request.requester_kind else "",
            _child(request, protocol, coded=coded),
            _name(request, coded=coded),
            "вторичное" if _is_repeat(request, protocol) else "первичное",
            _reason(request, coded=coded),
            _specialist(request, booking, position=False, coded=coded),
        ]


def _result(request: ServiceRequest, booking: Booking | None, consultation: Any) -> str:
    status = ServiceRequest.Status
    if consultation is not None:
        return "Консультация проведена"
    if request.status == status.REDIRECTED:
        where = request.referral.name if request.referral is not None else ""
        return "Направлен в другую организацию" + (f": {where}" if where else "")
    if request.status == status.REFUSED:
        return f"Отказ: {request.get_refusal_ground_display()}"
    if request.status == status.BOOKED and booking is not None:
        return f"Записан на {_local(request.service, booking.slot.starts_at)}"
    return str(request.get_status_display())


def _form(request: ServiceRequest, consultation: Any) -> str:
    if consultation is not None:
        if consultation.form in _FORM_002:  # held in another form than the room (issue 12)
            return str(consultation.get_form_display())
        return str(consultation.get_mode_display())
    return str(request.get_preferred_form_display()) if request.preferred_form else ""


def _notes(request: ServiceRequest) -> str:
    notes = []
    if request.is_anonymous:
        notes.append(_code(request))
    if request.kind == ServiceKind.DISPATCHER:
        notes.append(str(ServiceKind.DISPATCHER.label))
    if request.counted_with_id:
        notes.append(f"учтено вместе с обращением № {request.counted_with_id}")
    return "; ".join(notes)


def appeals_row(number: int, request: ServiceRequest, *, coded: bool = False) -> list:
    """A row of regulation 003 Appendix 2, in the order of its columns."""
    booking = _main_booking(request)
    consultation = _consultation(booking)
    protocol = _protocol(consultation)
    service = request.service
    when = ""
    if consultation is not None and booking is not None:  # a consultation is of a booking
        when = _local(service, consultation.started_at or booking.slot.starts_at)
    elif booking is not None:
        when = _local(service, booking.slot.starts_at)
    with translation.override("ru"):
        if protocol is not None:
            topic = str(protocol.get_topic_display())
        elif request.typical_question:
            topic = str(request.get_typical_question_display())
        else:
            topic = ""
        return [
            number,
            _local(service, request.created_at),
            str(request.get_channel_display()),
            _name(request, coded=coded),
            when,
            _form(request, consultation),
            topic,
            _specialist(request, booking, position=True, coded=coded),
            _result(request, booking, consultation),
            _notes(request),
        ]


# --- regulation 002 Appendix 3: the consultations held -------------------------------------------


_FORM_002 = FORM_IN_JOURNAL  # issue 12: the form a consultation was held in


def consultations_queryset(
    *,
    service: Any,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    consultant: Any = None,
) -> QuerySet[Consultation]:
    """Consultations held (status ended) of `service` in the period, by the time they were booked
    for. A failed attempt or a no-show is not a consultation held (regulation 004)."""
    qs = Consultation.objects.filter(
        status=Consultation.Status.ENDED, booking__slot__service=service
    )
    if consultant is not None:
        qs = qs.filter(booking__slot__consultant=consultant)
    if date_from is not None:
        qs = qs.filter(booking__slot__starts_at__gte=local_day_bounds(service, date_from)[0])
    if date_to is not None:
        qs = qs.filter(booking__slot__starts_at__lt=local_day_bounds(service, date_to)[1])
    return qs.select_related(
        "booking__slot__service", "booking__slot__consultant", "booking__request", "protocol"
    ).order_by("booking__slot__starts_at", "pk")


def consultations_row(number: int, consultation: Consultation, *, coded: bool = False) -> list:
    """A row of regulation 002 Appendix 3 («Журнал учета он-лайн консультирования»).

    The form names the specialist in its header; a journal of several specialists carries
    «ФИО специалиста» as a column after the date (see `catalogue`).
    """
    slot = consultation.booking.slot
    request = consultation.booking.request
    started = consultation.started_at or slot.starts_at
    when = _local(slot.service, started)
    protocol = _protocol(consultation)
    if protocol is not None and protocol.duration_minutes:
        # Held without the room (in person, visiting): the protocol says how long (issue 12).
        when += f", {protocol.duration_minutes} мин"
    elif consultation.started_at and consultation.ended_at:
        minutes = round((consultation.ended_at - consultation.started_at).total_seconds() / 60)
        when += f", {minutes} мин"
    if consultation.form in _FORM_002:
        when += f", {_FORM_002[consultation.form]}"
    child = ""
    if protocol is not None and protocol.child_name:
        child = _code(request) if coded or request.is_anonymous else protocol.child_name
    with translation.override("ru"):
        return [
            number,
            when,
            staff_code(slot.consultant_id) if coded else slot.consultant.display_name,
            child,
            protocol.child_age if protocol and protocol.child_age is not None else "",
            _name(request, coded=coded),
            str(protocol.get_kind_display()) if protocol else "",
            "" if coded else (protocol.reason if protocol else request.reason),
            str(protocol.get_topic_display()) if protocol else "",
            "" if coded or protocol is None else protocol.note,
        ]


# --- regulation 004: the journal of services -----------------------------------------------------

# The three forms of regulation 004 («очно», «дистанционно», «в форме письменного ответа»).
_FORM_004: dict[str, str] = {
    ServiceForm.IN_PERSON: "очно",
    ServiceForm.WRITTEN: "письменный ответ",
}
# The form a consultation was held in (issue 12) says it better than the form the client wanted.
_CONSULTATION_FORM_004: dict[str, str] = {
    ConsultationForm.IN_PERSON: "очно",
    ConsultationForm.VISITING: "очно (выездная)",
    ConsultationForm.EMAIL: "письменный ответ",
    ConsultationForm.MESSENGER: "письменный ответ (мессенджер)",
}


class ServiceValuesRow(TypedDict):
    """A row of `services_values` (read-only: the types of a nullable join are wider than the
    ones django-stubs infers, which read-only keys accept)."""

    pk: ReadOnly[int]
    public_code: ReadOnly[str | None]
    created_at: ReadOnly[dt.datetime]
    is_anonymous: ReadOnly[bool]
    full_name: ReadOnly[str]
    kind: ReadOnly[str]
    preferred_form: ReadOnly[str]
    typical_question: ReadOnly[str]
    reason: ReadOnly[str]
    assigned_to_id: ReadOnly[int | None]
    assigned_to__first_name: ReadOnly[str | None]
    assigned_to__last_name: ReadOnly[str | None]
    assigned_to__username: ReadOnly[str | None]
    consultation_form: ReadOnly[str | None]


def services_values(
    *, service: Any, date_from: dt.date, date_to: dt.date
) -> QuerySet[ServiceRequest, ServiceValuesRow]:
    """The services (regulation 004) of requests registered in the period: one row per request
    that is a service, requests counted together with another counting once (as
    `intake.selectors.services_count`). A flat `values()` query, streamed by the caller."""
    counts = Q(counted_with__isnull=True) | Q(counted_with__status__in=NOT_A_SERVICE)
    return (
        ServiceRequest.objects.filter(
            service=service,
            created_at__gte=local_day_bounds(service, date_from)[0],
            created_at__lt=local_day_bounds(service, date_to)[1],
        )
        .exclude(status__in=NOT_A_SERVICE)
        .filter(counts)
        .annotate(
            consultation_form=Subquery(
                Consultation.objects.filter(
                    booking__request=OuterRef("pk"), status=Consultation.Status.ENDED
                )
                .order_by("-pk")
                .values("form")[:1]
            )
        )
        .values(
            "pk",
            "public_code",
            "created_at",
            "is_anonymous",
            "full_name",
            "kind",
            "preferred_form",
            "typical_question",
            "reason",
            "assigned_to_id",
            "assigned_to__first_name",
            "assigned_to__last_name",
            "assigned_to__username",
            "consultation_form",
        )
        .order_by("created_at", "pk")
    )


def _label(field: str, value: str) -> str:
    # A field of the request itself (never a relation, which has no `choices`).
    choices = dict(getattr(ServiceRequest._meta.get_field(field), "choices", None) or ())
    return str(choices.get(value, value or ""))


def services_row(
    number: int, row: ServiceValuesRow, *, service: Any, coded: bool = True
) -> list[Any]:
    """A row of the journal of services; `coded` (every general-use copy) writes the request's
    code in place of the person, «Анонимно» for an anonymous one."""
    code = f"код {row['public_code'] or row['pk']}"
    if row["is_anonymous"]:
        person = ANONYMOUS
    elif coded:
        person = code
    else:
        person = (row["full_name"] or "").strip() or ANONYMOUS
    held_in = row.get("consultation_form") or ""
    if held_in:
        form = _CONSULTATION_FORM_004.get(held_in, "дистанционно")
    else:
        form = _FORM_004.get(row["preferred_form"], "дистанционно" if row["preferred_form"] else "")
    with translation.override("ru"):
        topic = _label("typical_question", row["typical_question"])
        if not topic and not coded:
            topic = row["reason"] or ""
        consultant = ""
        if row["assigned_to_id"]:
            name = f"{row['assigned_to__last_name']} {row['assigned_to__first_name']}".strip()
            consultant = (
                staff_code(row["assigned_to_id"])
                if coded
                else name or row["assigned_to__username"] or ""
            )
        return [
            number,
            _local(service, row["created_at"], "%d.%m.%Y"),
            code,
            person,
            _label("kind", row["kind"]),
            form,
            topic,
            consultant,
        ]


# --- regulation 003 Appendix 1: the month's schedule of consultations ---------------------------

MONTHS = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)  # fmt: skip


def month_text(day: dt.date) -> str:
    return f"{MONTHS[day.month - 1]} {day.year} года"


class ScheduleValuesRow(TypedDict):
    """A row of `schedule_values`."""

    date: ReadOnly[dt.date]
    start_time: ReadOnly[dt.time]
    end_time: ReadOnly[dt.time]
    schedule__consultant_id: ReadOnly[int]
    schedule__consultant__first_name: ReadOnly[str]
    schedule__consultant__last_name: ReadOnly[str]
    schedule__consultant__username: ReadOnly[str]
    schedule__consultant__role: ReadOnly[str]
    topic: ReadOnly[str]
    target_group: ReadOnly[str]


def schedule_values(
    *, service: Any, date_from: dt.date, date_to: dt.date, consultant: Any = None
) -> QuerySet[SchedulePeriod, ScheduleValuesRow]:
    """The approved schedules' periods of `service` with dates in [date_from, date_to]."""
    qs = SchedulePeriod.objects.filter(
        schedule__service=service,
        schedule__status=Schedule.Status.APPROVED,
        date__gte=date_from,
        date__lte=date_to,
    )
    if consultant is not None:
        qs = qs.filter(schedule__consultant=consultant)
    return qs.values(
        "date",
        "start_time",
        "end_time",
        "schedule__consultant_id",
        "schedule__consultant__first_name",
        "schedule__consultant__last_name",
        "schedule__consultant__username",
        "schedule__consultant__role",
        "topic",
        "target_group",
    ).order_by("date", "start_time", "schedule__consultant__last_name")


def schedule_row(number: int, row: ScheduleValuesRow, *, coded: bool = False) -> list[Any]:
    """A row of regulation 003 Appendix 1 (the row has no number: the form has none)."""
    with translation.override("ru"):
        if coded:
            person = staff_code(row["schedule__consultant_id"])
        else:
            name = " ".join(
                p
                for p in (
                    row["schedule__consultant__last_name"],
                    row["schedule__consultant__first_name"],
                )
                if p
            )
            role = row["schedule__consultant__role"]
            position = str(Role(role).label).lower() if role in Role.values else ""
            person = "/".join(
                p for p in (name or row["schedule__consultant__username"], position) if p
            )
        forms = ", ".join(str(label).lower() for label in Consultation.Mode.labels)
        when = f"{row['date']:%d.%m.%Y}, {row['start_time']:%H:%M}–{row['end_time']:%H:%M}"
        return [row["topic"], row["target_group"], person, forms, when]


def numbered(rows: Iterator[Any], build: Any, **kwargs: Any) -> Iterator[list]:
    """`build(n, row, **kwargs)` over `rows`, numbered from 1 (each builder writes Russian)."""
    for number, row in enumerate(rows, start=1):
        yield build(number, row, **kwargs)


# --- rows the events give (registered by the screens' app, see `journals.sources`) -------------

# The event kinds as the journal of services names them (regulation 004: educational events).
_EVENT_FORM_004 = {
    "group": "дистанционно (групповая консультация)",
    "webinar": "дистанционно (вебинар)",
    "conference": "дистанционно (конференция)",
    "lecture": "дистанционно (видеолекция)",
    "podcast": "дистанционно (подкаст)",
    "case": "дистанционно (кейс с формой обратной связи)",
}
EVENT_KIND_004 = "Образовательное мероприятие"


def _participant(row: dict[str, Any], *, coded: bool) -> str:
    """A registration's person: both parents on one registration are one participant."""
    if row["anonymous"]:
        return ANONYMOUS
    if coded:
        return f"код {row['code']}"
    names = [n.strip() for n in (row["full_name"], row["second_full_name"]) if (n or "").strip()]
    return ", ".join(names) or ANONYMOUS


def _lead(row: dict[str, Any], *, coded: bool) -> str:
    if not row["lead_id"]:
        return ""
    if coded:
        return staff_code(row["lead_id"])
    name = f"{row['lead_last'] or ''} {row['lead_first'] or ''}".strip()
    return name or row["lead_username"] or ""


def _topic(value: str) -> str:
    with translation.override("ru"):
        return str(Topic(value).label) if value in Topic.values else value or ""


def participants_header(rows: list[dict[str, Any]], *, service: Any, coded: bool) -> dict[str, str]:
    """The header of «Реестр участников группового онлайн консультирования»: the consultation's
    date, specialist and topic — several, separated by «; », when the period holds several."""

    def distinct(values: Iterator[str]) -> str:
        return "; ".join(dict.fromkeys(v for v in values if v))

    return {
        "Дата консультации": distinct(_local(service, r["date"], "%d.%m.%Y %H:%M") for r in rows),
        "ФИО специалиста": distinct(_lead(r, coded=coded) for r in rows),
        "Тематика консультирования": distinct(_topic(r["topic"]) for r in rows),
    }


def participants_row(
    number: int, row: dict[str, Any], *, service: Any, coded: bool = False, dated: bool = False
) -> list:
    """A row of the participants' registry (regulation 002 Appendix 3). `dated` (a period of
    several consultations) opens the note with the consultation's date, so each row says which
    consultation it was; the lead's note is text about the client, left out of a coded copy."""
    note = "" if coded else (row["note"] or "")
    if dated:
        when = _local(service, row["date"], "%d.%m.%Y %H:%M")
        note = f"{when}: {note}" if note else when
    return [number, _participant(row, coded=coded), note]


def event_services_row(
    number: int, row: dict[str, Any], *, service: Any, coded: bool = True
) -> list:
    """An event's participant as a row of the journal of services: a group consultation is a
    service of the content kind, an educational event one of the event kind (regulation 004)."""
    with translation.override("ru"):
        kind = (
            str(ServiceKind.CONTENT.label) if row["event_kind"] == "group" else f"{EVENT_KIND_004}"
        )
    return [
        number,
        _local(service, row["date"], "%d.%m.%Y"),
        f"код {row['code']}",
        _participant(row, coded=coded),
        kind,
        _EVENT_FORM_004.get(row["event_kind"], "дистанционно"),
        _topic(row["topic"]),
        _lead(row, coded=coded),
    ]
