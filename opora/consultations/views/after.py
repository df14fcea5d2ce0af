"""The consultant's pages after (or instead of) the consultation."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpResponse,
    JsonResponse,
)
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from opora.accounts import policy as access_policy
from opora.accounts.models import Role, User
from opora.accounts.policy import Action, own_only
from opora.accounts.workplace import StaffRequest, forbidden, role_required
from opora.consultations import selectors, services
from opora.consultations.forms import (
    FailureForm,
    ProtocolForm,
)
from opora.consultations.models import (
    Consultation,
    CrisisAlert,
    Protocol,
    TechnicalFailure,
)
from opora.consultations.views._common import (
    CONSULTATION_OF_SERVICE,
    _consultation_service,
    _own_consultation,
    _parse_date,
    _render,
    _service_asked,
)
from opora.consultations.views.next_booking import _next_booking_context, _next_booking_text
from opora.core.errors import DomainError, NotFound

# --- The consultant's pages after (or instead of) the consultation --------------------------------


@role_required(
    Action.PROTOCOL_WRITE, service_from=_consultation_service, switched=CONSULTATION_OF_SERVICE
)
@require_http_methods(["GET", "POST"])
def protocol_form(request: StaffRequest, consultation_id: int) -> HttpResponse:
    """«Протокол он-лайн консультирования» of an ended consultation."""
    consultation, refusal = _own_consultation(request, consultation_id)
    if refusal is not None:
        return refusal
    assert consultation is not None  # noqa: S101
    existing = Protocol.objects.filter(consultation=consultation).first()
    status = 200
    if request.method == "POST":
        form = ProtocolForm(request.POST, instance=existing)
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in services.PROTOCOL_FIELDS}
            try:
                services.protocol_save(actor=request.user, consultation=consultation, **data)
            except ValidationError as e:
                for field, field_errors in e.message_dict.items():
                    for message in field_errors:
                        form.add_error(field if field in form.fields else None, message)
            except DomainError as e:
                form.add_error(None, str(e.message))
            else:
                messages.success(request, _("The protocol is saved."))
                return redirect("consultations:journal")
        status = 400
    else:
        initial = {}
        if existing is None:
            initial = {
                # Blank reason: the typical question chosen on the portal starts the draft.
                "reason": selectors.request_topic(consultation.booking.request),
                "kind": selectors.protocol_kind_suggestion(consultation),
                # Regulation 002 §4.3.2: the files sent in the chat are materials sent.
                "materials": "\n".join(
                    m.attachment.name
                    for m in selectors.chat_files(consultation)
                    if m.sender == "consultant"
                ),
                "next_consultation": _next_booking_text(consultation),
            }
        form = ProtocolForm(instance=existing, initial=initial, consultation=consultation)
    service = consultation.booking.slot.service
    started = consultation.started_at or consultation.booking.slot.starts_at
    return _render(
        request,
        consultation,
        "consultations/protocol.html",
        {
            "form": form,
            "consultation": consultation,
            "room_service": service,
            "started": timezone.localtime(started, service.tz),
            "representative": consultation.booking.request.full_name or selectors.ANONYMOUS,
            "not_ended": consultation.status != Consultation.Status.ENDED,
            "nav": "day",
            "chat_files": selectors.chat_files(consultation),
            **_next_booking_context(request, consultation),
        },
        status=status,
    )


def _action(
    request: StaffRequest, consultation_id: int, act: Callable[[Consultation], object], ok: str
) -> HttpResponse:
    consultation, refusal = _own_consultation(request, consultation_id)
    if refusal is not None:
        return refusal
    assert consultation is not None  # noqa: S101
    try:
        act(consultation)
    except DomainError as e:
        messages.error(request, str(e.message))
        return redirect("consultations:consultant_room", consultation_id=consultation.pk)
    messages.success(request, ok)
    return redirect("consultant_day")


def _failure_consultation(
    request: StaffRequest, consultation_id: int
) -> tuple[Consultation | None, HttpResponse | None]:
    """The consultation whose failure is reported, if the policy lets the user report it: the
    booked consultant, or a head of its service (`consultation.report_failure`); else its
    existence does not leak (404)."""
    consultation = selectors.consultation_by_id(consultation_id)
    error = (
        access_policy.refusal(request.user, Action.CONSULTATION_REPORT_FAILURE, consultation)
        if consultation is not None
        else None
    )
    if consultation is None or isinstance(error, NotFound):
        raise Http404
    if error is not None:
        return None, forbidden(request, str(error.message))
    return consultation, None


def _after_failure(
    request: StaffRequest, consultation: Consultation, *, reported: bool
) -> HttpResponse:
    """Where the reporter goes next: the booked consultant to their day once it is reported, else
    back to the room; a head to the service's list of failures."""
    if not selectors.consultant_may_enter(request.user, consultation):
        return redirect("consultations:failures")
    if reported:
        return redirect("consultant_day")
    return redirect("consultations:consultant_room", consultation_id=consultation.pk)


@role_required(Action.CONSULTATION_REPORT_FAILURE)
@require_POST
def failure_report(request: StaffRequest, consultation_id: int) -> HttpResponse:
    """Technical failure (regulation 002 §4.2.1): reported with the reason; the head is alerted and
    decides; the client is told at once that a new time is coming."""
    consultation, refusal = _failure_consultation(request, consultation_id)
    if refusal is not None:
        return refusal
    assert consultation is not None  # noqa: S101
    form = FailureForm(request.POST)
    if not form.is_valid() or (
        form.cleaned_data["cause"] == TechnicalFailure.Cause.OTHER
        and not form.cleaned_data["details"].strip()
    ):
        messages.error(request, _("Choose the cause of the failure; for “Other”, describe it."))
        return _after_failure(request, consultation, reported=False)
    try:
        services.technical_failure_report(
            actor=request.user,
            consultation=consultation,
            cause=form.cleaned_data["cause"],
            details=form.cleaned_data["details"],
        )
    except ValidationError as e:
        messages.error(request, "; ".join(e.messages))
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(
            request,
            _(
                "The technical failure is reported; the head decides on the new time and the "
                "client is told."
            ),
        )
        return _after_failure(request, consultation, reported=True)
    return _after_failure(request, consultation, reported=False)


@role_required(Action.CONSULTATION_CONDUCT)
@require_POST
def no_show(request: StaffRequest, consultation_id: int) -> HttpResponse:
    return _action(
        request,
        consultation_id,
        lambda c: services.consultation_mark_no_show(actor=request.user, consultation=c),
        _("Marked as a no-show."),
    )


@role_required(Action.CONSULTATION_CONDUCT)
@require_POST
def phone(request: StaffRequest, consultation_id: int) -> HttpResponse:
    consultation, refusal = _own_consultation(request, consultation_id)
    if refusal is not None:
        return refusal
    assert consultation is not None  # noqa: S101
    try:
        services.consultation_mark_phone(actor=request.user, consultation=consultation)
    except DomainError as e:
        messages.error(request, str(e.message))
    return redirect("consultations:consultant_room", consultation_id=consultation_id)


@role_required(Action.CONSULTATION_CONDUCT)
@require_POST
def crisis(request: StaffRequest, consultation_id: int) -> HttpResponse:
    """The crisis button: the heads are alerted at once; the room shows the crisis protocol."""
    consultation, refusal = _own_consultation(request, consultation_id)
    if refusal is not None:
        return refusal
    assert consultation is not None  # noqa: S101
    services.crisis_alert_create(
        actor=request.user, consultation=consultation, source=CrisisAlert.Source.BUTTON
    )
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"ok": True})
    return redirect(
        reverse("consultations:consultant_room", args=[consultation_id]) + "?crisis=1#crisis"
    )


@role_required(Action.JOURNAL_VIEW)
def journal(request: StaffRequest) -> HttpResponse:
    """«Журнал учета он-лайн консультирования» (regulation 002 Appendix 3), on screen or as XLSX,
    of the service the user works in (`?service=` switches to another of theirs)."""
    user = request.user
    refusal = _service_asked(request)
    if refusal is not None:
        return refusal
    service = request.service
    consultants = User.objects.filter(
        services=service, role=Role.CONSULTANT, is_active=True
    ).order_by("last_name", "first_name", "pk")
    consultant = None
    wanted_consultant = request.GET.get("consultant", "")
    own_rows = own_only(user, Action.JOURNAL_VIEW)  # a consultant: their own rows, no filter
    if wanted_consultant.isdigit() and not own_rows:
        consultant = consultants.filter(pk=wanted_consultant).first()
    date_from = _parse_date(request.GET.get("from"))
    date_to = _parse_date(request.GET.get("to"))
    rows = [
        selectors.journal_row(n, c)
        for n, c in enumerate(
            selectors.journal_consultations(
                actor=user,
                service=service,
                consultant=consultant,
                date_from=date_from,
                date_to=date_to,
            ),
            start=1,
        )
    ]
    xlsx = request.GET.get("format") == "xlsx"
    services.journal_read_record(
        actor=user,
        service=service,
        export=xlsx,
        rows=len(rows),
        filters={
            "consultant_id": consultant.pk if consultant else None,
            "from": date_from.isoformat() if date_from else None,
            "to": date_to.isoformat() if date_to else None,
        },
    )
    if xlsx:
        response = HttpResponse(
            services.journal_workbook(rows=rows),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = 'attachment; filename="journal.xlsx"'
        return response
    query = request.GET.copy()
    query["format"] = "xlsx"
    with timezone.override(service.tz):
        return TemplateResponse(
            request,
            "consultations/journal.html",
            {
                "rows": rows,
                "columns": selectors.JOURNAL_COLUMNS,
                "room_service": service,
                "service_choices": request.staff_services,
                "consultants": None if own_rows else consultants,
                "consultant": consultant,
                "date_from": date_from,
                "date_to": date_to,
                "export_query": query.urlencode(),
                "nav": "journal",
            },
        ).render()
