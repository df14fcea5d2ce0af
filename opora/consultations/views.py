"""The client's pages (entry, device check, room) reached by the personal link, and the consultant's room."""

import datetime as dt
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from opora.accounts.models import Role, User
from opora.consultations import crisis as crisis_info
from opora.consultations import selectors, services
from opora.consultations.forms import FailureForm, ProtocolForm
from opora.consultations.models import Consultation, CrisisAlert, Protocol, TechnicalFailure
from opora.consultations.selectors import LinkProblem
from opora.core.audit import audit_record
from opora.core.errors import DomainError
from opora.core.models import Service
from opora.scheduling.models import Booking

NOTICE_SEEN = "opora-room-notice-{}"


def _problem_page(
    request: HttpRequest, consultation: Consultation | None, problem: str
) -> HttpResponse:
    service = consultation.booking.slot.service if consultation else None
    status = 404 if problem == LinkProblem.NOT_FOUND else 410
    return TemplateResponse(
        request,
        "consultations/link_problem.html",
        {"problem": problem, "room_service": service, "consultation": consultation},
        status=status,
    )


def _client_consultation(
    request: HttpRequest, token: str, *, allow_early: bool
) -> tuple[Consultation | None, HttpResponse | None]:
    consultation = selectors.consultation_by_token(token)
    problem = selectors.link_problem(consultation)
    if problem is None or (allow_early and problem == LinkProblem.EARLY):
        return consultation, None
    return consultation, _problem_page(request, consultation, problem)


def _context(consultation: Consultation, **extra: object) -> dict:
    slot = consultation.booking.slot
    service = slot.service
    starts = timezone.localtime(slot.starts_at, service.tz)
    ends = timezone.localtime(slot.ends_at, service.tz)
    return {
        "consultation": consultation,
        "room_service": service,
        "starts_at": starts,
        "ends_at": ends,
        "token": consultation.client_token,
        **extra,
    }


@require_http_methods(["GET", "POST"])
def client_entry(request: HttpRequest, token: str) -> HttpResponse:
    """The link's landing page: the recording notice or consent prompt the service's policy asks for."""
    consultation, refusal = _client_consultation(request, token, allow_early=True)
    if refusal is not None:
        return refusal
    assert consultation is not None  # noqa: S101 - narrowed by _client_consultation
    policy = consultation.booking.slot.service.recording_policy
    if request.method == "POST":
        if policy == Service.RecordingPolicy.CONSENT:
            answer = request.POST.get("consent")
            if answer not in ("yes", "no"):
                return TemplateResponse(
                    request,
                    "consultations/entry.html",
                    _context(consultation, policy=policy, error=_("Please choose an answer.")),
                    status=400,
                )
            services.consultation_record_consent(consultation=consultation, consent=answer == "yes")
        request.session[NOTICE_SEEN.format(consultation.pk)] = True
        return redirect("consultations:device_check", token=token)
    if policy == Service.RecordingPolicy.NEVER:
        request.session[NOTICE_SEEN.format(consultation.pk)] = True
        return redirect("consultations:device_check", token=token)
    return TemplateResponse(
        request, "consultations/entry.html", _context(consultation, policy=policy)
    )


def device_check(request: HttpRequest, token: str) -> HttpResponse:
    """Camera and microphone preview, a microphone level meter, a speaker test (reg. 002 §4.2)."""
    consultation, refusal = _client_consultation(request, token, allow_early=True)
    if refusal is not None:
        return refusal
    assert consultation is not None  # noqa: S101
    early = selectors.link_problem(consultation) == LinkProblem.EARLY
    check_text = {
        "ok": _("The camera and microphone work."),
        "blocked": _("The camera or microphone is blocked or missing. See what to do below."),
    }
    return TemplateResponse(
        request,
        "consultations/device_check.html",
        _context(consultation, early=early, check_text=check_text),
    )


def client_room(request: HttpRequest, token: str) -> HttpResponse:
    """The client's room: waiting until the consultant admits, then video, voice or chat."""
    consultation, refusal = _client_consultation(request, token, allow_early=False)
    if refusal is not None:
        return refusal
    assert consultation is not None  # noqa: S101
    policy = consultation.booking.slot.service.recording_policy
    seen = request.session.get(NOTICE_SEEN.format(consultation.pk))
    if policy != Service.RecordingPolicy.NEVER and not seen:
        return redirect("consultations:client_entry", token=token)
    config = _room_config(
        consultation,
        role="client",
        ws_path=f"/ws/room/c/{token}/",
        user_id=f"c{consultation.pk}",
    )
    return TemplateResponse(
        request, "consultations/room.html", _context(consultation, role="client", config=config)
    )


@login_required
def consultant_room(request: HttpRequest, consultation_id: int) -> HttpResponse:
    """The booked consultant's side of the room: admit, clock, end."""
    consultation = selectors.consultation_by_id(consultation_id)
    if consultation is None or not selectors.consultant_may_enter(request.user, consultation):
        return TemplateResponse(
            request,
            "403.html",
            {"message": _("Only the consultant booked for this consultation can open its room.")},
            status=403,
        )
    config = _room_config(
        consultation,
        role="consultant",
        ws_path=f"/ws/room/{consultation.pk}/",
        user_id=f"u{request.user.pk}",
    )
    config["protocolUrl"] = reverse("consultations:protocol", args=[consultation.pk])
    service = consultation.booking.slot.service
    # The page shows the client's request and earlier protocols: a read of personal data.
    audit_record(actor=request.user, event_type="consultation.room_opened", subject=consultation)
    return TemplateResponse(
        request,
        "consultations/room.html",
        _context(
            consultation,
            role="consultant",
            config=config,
            nav="day",
            failure_form=FailureForm(),
            emergency_numbers=crisis_info.emergency_numbers(service.country),
            crisis_steps=crisis_info.CRISIS_STEPS,
            show_crisis=request.GET.get("crisis") == "1",
            earlier_protocols=selectors.earlier_protocols(consultation=consultation),
        ),
    )


@login_required
def consultant_room_for_booking(request: HttpRequest, booking_id: int) -> HttpResponse:
    """From "my day": the room of a booking (created on first open)."""
    booking = get_object_or_404(
        Booking.objects.select_related("slot"), pk=booking_id, status=Booking.Status.ACTIVE
    )
    if booking.slot.consultant_id != request.user.pk:
        return TemplateResponse(
            request,
            "403.html",
            {"message": _("Only the consultant booked for this consultation can open its room.")},
            status=403,
        )
    consultation = services.consultation_for_booking(booking=booking)
    return redirect("consultations:consultant_room", consultation_id=consultation.pk)


def warning_minutes(limit: int) -> list[int]:
    """Minutes after the start at which the room warns: 10 and 5 minutes before the limit
    (regulation 002 §4.3.1: at most 60 minutes; the limit is the service's setting)."""
    return [m for m in (limit - 10, limit - 5) if m > 0]


def _room_config(consultation: Consultation, *, role: str, ws_path: str, user_id: str) -> dict:
    service = consultation.booking.slot.service
    return {
        "role": role,
        "key": str(consultation.pk),
        "wsPath": ws_path,
        "iceServers": selectors.ice_servers(user_id=user_id),
        "maxMinutes": service.max_consultation_minutes,
        "warnAt": warning_minutes(service.max_consultation_minutes),
        "text": {
            "connecting": _("Connecting…"),
            "waiting": _("Please wait: the consultant will let you in shortly."),
            "clientWaiting": _("The client is waiting. Press “Let in”."),
            "noClient": _("The client has not joined yet."),
            "admitted": _("You are in the consultation."),
            "inCall": _("Connected."),
            "peerJoined": _("The other side has joined."),
            "peerLeft": _(
                "The other side has left the consultation. Stay on this page: they may come back."
            ),
            "reconnecting": _("Connection lost. Reconnecting…"),
            "ended": _("The consultation has ended. You can close this page."),
            "replaced": _("This page was opened again in another tab; continue there."),
            "blocked": _(
                "The camera or microphone is blocked. Allow them in the browser (the icon at the "
                "left of the address bar) and reload the page, or continue in the chat."
            ),
            "modeVideo": _("The other side switched to video."),
            "modeVoice": _("The other side switched to voice only."),
            "modeChat": _("The other side switched to chat only."),
            "me": _("You"),
            "client": _("Client"),
            "consultant": _("Consultant"),
            "sending": _("sending…"),
            "mute": _("Mute microphone"),
            "unmute": _("Unmute microphone"),
            "cameraOff": _("Turn camera off"),
            "cameraOn": _("Turn camera on"),
            "limitSoon": _("%(minutes)s minutes left of the %(max)s-minute limit."),
            "limitReached": _("The %(max)s-minute limit has been reached."),
            "confirmEnd": _("End the consultation for both sides?"),
            "crisisSent": _("The head has been alerted."),
        },
    }


# --- The consultant's pages after (or instead of) the consultation --------------------------------


def _own_consultation(
    request: HttpRequest, consultation_id: int
) -> tuple[Consultation | None, HttpResponse | None]:
    consultation = selectors.consultation_by_id(consultation_id)
    if consultation is None or not selectors.consultant_may_enter(request.user, consultation):
        return None, TemplateResponse(
            request,
            "403.html",
            {"message": _("Only the consultant booked for this consultation can open this page.")},
            status=403,
        )
    return consultation, None


@login_required
@require_http_methods(["GET", "POST"])
def protocol_form(request: HttpRequest, consultation_id: int) -> HttpResponse:
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
                "reason": consultation.booking.request.reason,
                "kind": selectors.protocol_kind_suggestion(consultation),
            }
        form = ProtocolForm(instance=existing, initial=initial)
    service = consultation.booking.slot.service
    started = consultation.started_at or consultation.booking.slot.starts_at
    return TemplateResponse(
        request,
        "consultations/protocol.html",
        {
            "form": form,
            "consultation": consultation,
            "room_service": service,
            "started": timezone.localtime(started, service.tz),
            "representative": consultation.booking.request.full_name or selectors.ANONYMOUS,
            "not_ended": consultation.status != Consultation.Status.ENDED,
            "nav": "day",
        },
        status=status,
    )


def _action(
    request: HttpRequest, consultation_id: int, act: Callable[[Consultation], object], ok: str
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


@login_required
@require_POST
def failure_report(request: HttpRequest, consultation_id: int) -> HttpResponse:
    """Technical failure (regulation 002 §4.2.1): heads told, booking moved, client told."""
    form = FailureForm(request.POST)
    if not form.is_valid() or (
        form.cleaned_data["cause"] == TechnicalFailure.Cause.OTHER
        and not form.cleaned_data["details"].strip()
    ):
        messages.error(request, _("Choose the cause of the failure; for “Other”, describe it."))
        return redirect("consultations:consultant_room", consultation_id=consultation_id)

    def act(c: Consultation) -> None:
        try:
            services.technical_failure_report(
                actor=request.user,
                consultation=c,
                cause=form.cleaned_data["cause"],
                details=form.cleaned_data["details"],
            )
        except ValidationError as e:
            raise DomainError("; ".join(e.messages)) from None

    return _action(
        request,
        consultation_id,
        act,
        _("The technical failure is reported; the head is told and the booking moved."),
    )


@login_required
@require_POST
def no_show(request: HttpRequest, consultation_id: int) -> HttpResponse:
    return _action(
        request,
        consultation_id,
        lambda c: services.consultation_mark_no_show(actor=request.user, consultation=c),
        _("Marked as a no-show."),
    )


@login_required
@require_POST
def phone(request: HttpRequest, consultation_id: int) -> HttpResponse:
    consultation, refusal = _own_consultation(request, consultation_id)
    if refusal is not None:
        return refusal
    assert consultation is not None  # noqa: S101
    try:
        services.consultation_mark_phone(actor=request.user, consultation=consultation)
    except DomainError as e:
        messages.error(request, str(e.message))
    return redirect("consultations:consultant_room", consultation_id=consultation_id)


@login_required
@require_POST
def crisis(request: HttpRequest, consultation_id: int) -> HttpResponse:
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


def _parse_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def journal(request: HttpRequest) -> HttpResponse:
    """«Журнал учета он-лайн консультирования» (regulation 002 Appendix 3), on screen or as XLSX."""
    user = request.user
    if not user.has_role(*selectors.JOURNAL_ROLES):
        return TemplateResponse(request, "403.html", {}, status=403)
    services_qs = Service.objects.filter(is_active=True).order_by("pk")
    if not user.is_superuser and user.role != "admin":
        services_qs = services_qs.filter(pk__in=user.services.values("pk"))
    service = None
    wanted = request.GET.get("service")
    if wanted:
        service = services_qs.filter(pk=wanted).first() if wanted.isdigit() else None
        if service is None:
            return TemplateResponse(
                request, "403.html", {"message": _("You do not work for this service.")}, status=403
            )
    service = service or services_qs.first()
    if service is None:
        return TemplateResponse(request, "web/no_service.html", status=403)
    consultants = User.objects.filter(
        services=service, role=Role.CONSULTANT, is_active=True
    ).order_by("last_name", "first_name", "pk")
    consultant = None
    wanted_consultant = request.GET.get("consultant", "")
    if wanted_consultant.isdigit() and user.role != Role.CONSULTANT:
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
                "service_choices": services_qs,
                "consultants": consultants if user.role != Role.CONSULTANT else None,
                "consultant": consultant,
                "date_from": date_from,
                "date_to": date_to,
                "export_query": query.urlencode(),
                "nav": "journal",
            },
        ).render()
