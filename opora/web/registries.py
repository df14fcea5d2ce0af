"""The request registries as views over requests, bookings and consultations (never a copy):

- regulation 002 Appendix 2, «Журнал регистрации заявок на дистанционное консультирование (д/к)»
  (§3.1 calls it the journal of registration of requests, «журнал регистрации обращений»);
- regulation 003 Appendix 2, «Журнал учета обращений граждан в дистанционную приемную» (kept in
  Excel; the channel of the request is a column).

The headers are the regulations' wording, verbatim, in every interface language, and the cells are
Russian too: the registry is the service's document. Anonymous requests (regulation 004) read
«Анонимно» in the name column; what identifies them is their request code, never a name or a
contact. The registries sit in `web` because they join intake with scheduling and consultations,
which intake may not import.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from opora.accounts.models import Role
from opora.core.errors import PermissionDenied
from opora.intake.models import ServiceKind, ServiceRequest
from opora.scheduling.calendar import local_day_bounds
from opora.scheduling.models import Booking

ANONYMOUS = "Анонимно"  # regulation 004: the mark in the name column of an anonymous request
REGISTRY_ROLES = (Role.CONSULTANT, Role.HEAD, Role.COORDINATOR, Role.ADMIN)

# Regulation 002 Appendix 2, the column headers verbatim.
REQUESTS_TITLE = "Журнал регистрации заявок на дистанционное консультирование (д/к)"
REQUESTS_COLUMNS = [
    "№",
    "Дата заявки",
    "От кого поступила заявка",
    "ФИО несовершеннолетнего, возраст",
    "Ф.И.О. законного представителя",
    "Обращение первичное/вторичное",
    "Повод обращения",
    "ФИО ответственного за д/к специалиста",
]

# Regulation 003 Appendix 2, the column headers verbatim (the appendix prints the table turned on
# its side, last column first; this is the reading order).
APPEALS_TITLE = "Журнал учета обращений граждан в дистанционную приемную"
APPEALS_COLUMNS = [
    "№ п/п",
    "Дата обращения в дистанционную приемную",
    "Канал обращения в дистанционную приемную",
    "Фамилия, имя, отчество обратившегося получателя социальных услуг",
    "Дата консультации",
    "Форма дистанционного консультирования",
    "Тема консультации",
    "Фамилия, имя, отчество специалиста, оказывающего консультацию/должность",
    "Результат консультирования",
    "Примечания",
]

REGISTRIES = {
    "requests": (REQUESTS_TITLE, REQUESTS_COLUMNS),
    "appeals": (APPEALS_TITLE, APPEALS_COLUMNS),
}


def may_read_registries(actor: Any) -> bool:
    return bool(actor.is_authenticated and actor.has_role(*REGISTRY_ROLES))


def registry_requests(
    *,
    actor: Any,
    service: Any,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    channel: str = "",
    status: str = "",
    consultant: Any = None,
) -> QuerySet[ServiceRequest]:
    """Requests of `service` registered in the period (service-local days), oldest first.

    Heads, coordinators and administrators of the service see all; a consultant sees only the
    requests assigned to them or booked with them. `consultant` narrows to one consultant.
    """
    if not may_read_registries(actor):
        raise PermissionDenied(_("You may not see the request registries."))
    if (
        not (actor.is_superuser or actor.role == Role.ADMIN)
        and not actor.services.filter(pk=service.pk).exists()
    ):
        raise PermissionDenied(_("You do not work for this service."))
    qs = ServiceRequest.objects.filter(service=service)
    if actor.role == Role.CONSULTANT and not actor.is_superuser:
        consultant = actor
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
            _earlier_client=Exists(earlier.filter(client_id=OuterRef("client_id"))),
            _earlier_iin=Exists(earlier.filter(iin=OuterRef("iin"))),
            _earlier_phone=Exists(earlier.filter(phone=OuterRef("phone"))),
            _earlier_email=Exists(earlier.filter(email=OuterRef("email"))),
        )
        .order_by("created_at", "pk")
    )


# --- one request, read for the registries -------------------------------------------------------


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


def _name(request: ServiceRequest) -> str:
    if request.is_anonymous:
        return ANONYMOUS
    return (request.full_name or "").strip() or ANONYMOUS


def _specialist(request: ServiceRequest, booking: Booking | None, *, position: bool) -> str:
    person = booking.slot.consultant if booking is not None else request.assigned_to
    if person is None:
        return ""
    if not position or not person.role:
        return person.display_name
    return f"{person.display_name} / {str(person.get_role_display()).lower()}"


def _child(request: ServiceRequest, protocol: Any) -> str:
    """«ФИО несовершеннолетнего, возраст»; for an anonymous request the code stands for the name."""
    age = request.child_age
    if age is None and protocol is not None:
        age = protocol.child_age
    name = ""
    if request.is_anonymous:
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


def _reason(request: ServiceRequest) -> str:
    if request.reason:
        return request.reason
    return str(request.get_typical_question_display()) if request.typical_question else ""


def requests_row(number: int, request: ServiceRequest) -> list:
    """A row of regulation 002 Appendix 2, in the order of REQUESTS_COLUMNS."""
    booking = _main_booking(request)
    protocol = _protocol(_consultation(booking))
    with translation.override("ru"):
        return [
            number,
            _local(request.service, request.created_at, "%d.%m.%Y"),
            str(request.get_requester_kind_display()) if request.requester_kind else "",
            _child(request, protocol),
            _name(request),
            "вторичное" if _is_repeat(request, protocol) else "первичное",
            _reason(request),
            _specialist(request, booking, position=False),
        ]


def _result(request: ServiceRequest, booking: Booking | None, consultation: Any) -> str:
    status = ServiceRequest.Status
    if consultation is not None:
        return "Консультация проведена"
    if request.status == status.REDIRECTED:
        where = request.referral.name if request.referral_id else ""
        return "Направлен в другую организацию" + (f": {where}" if where else "")
    if request.status == status.REFUSED:
        return f"Отказ: {request.get_refusal_ground_display()}"
    if request.status == status.BOOKED and booking is not None:
        return f"Записан на {_local(request.service, booking.slot.starts_at)}"
    return str(request.get_status_display())


def _form(request: ServiceRequest, consultation: Any) -> str:
    if consultation is not None:
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


def appeals_row(number: int, request: ServiceRequest) -> list:
    """A row of regulation 003 Appendix 2, in the order of APPEALS_COLUMNS."""
    booking = _main_booking(request)
    consultation = _consultation(booking)
    protocol = _protocol(consultation)
    service = request.service
    when = ""
    if consultation is not None:
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
            _name(request),
            when,
            _form(request, consultation),
            topic,
            _specialist(request, booking, position=True),
            _result(request, booking, consultation),
            _notes(request),
        ]


def registry_rows(registry: str, requests: Iterable[ServiceRequest]) -> list[list]:
    build = requests_row if registry == "requests" else appeals_row
    with translation.override("ru"):
        return [build(n, r) for n, r in enumerate(requests, start=1)]


def registry_workbook(*, registry: str, rows: list[list]) -> bytes:
    """The registry as XLSX: the regulation's title, its column headers, exactly `rows`."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from opora.core.exports import write_row

    title, columns = REGISTRIES[registry]
    wb = Workbook()
    ws = wb.active
    ws.title = "Журнал"
    write_row(ws, [title])
    ws["A1"].font = Font(bold=True)
    write_row(ws, columns)
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        write_row(ws, row)  # names and notes come from the public: plain text only
    widths = {
        "requests": (5, 12, 22, 26, 30, 16, 40, 28),
        "appeals": (6, 17, 16, 30, 17, 18, 30, 34, 30, 28),
    }
    for index, width in enumerate(widths[registry]):
        ws.column_dimensions[chr(ord("A") + index)].width = width
    ws.freeze_panes = "A3"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
