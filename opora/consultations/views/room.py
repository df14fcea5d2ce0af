"""The client's pages (entry, device check, room) reached by the personal link, and the consultant's room."""

import datetime as dt
import os
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from opora.accounts.models import Role, User
from opora.accounts.workplace import role_required, service_use
from opora.consultations import crisis as crisis_info
from opora.consultations import files as chat_files
from opora.consultations import selectors, services
from opora.consultations.forms import (
    FailureForm,
    ProtocolForm,
    RecordingAccessForm,
    RecordingReleaseForm,
)
from opora.consultations.models import (
    Consultation,
    CrisisAlert,
    Protocol,
    Recording,
    RecordingRelease,
    TechnicalFailure,
)
from opora.consultations.selectors import LinkProblem
from opora.core.errors import DomainError
from opora.core.http import streaming_response
from opora.core.inputs import parse_date_param
from opora.core.models import Service
from opora.core.timezones import ZONE_NAMES, utc_offset
from opora.scheduling.models import Booking

NOTICE_SEEN = "opora-room-notice-{}"
RECORDING_CHUNK_MS = 5000
# Below this, the device check advises voice or chat instead of video (regulation 002 §4.2).
VIDEO_MIN_MBIT = 1.0
SPEED_TEST_DEFAULT_BYTES = 1024 * 1024
SPEED_TEST_MAX_BYTES = 2 * 1024 * 1024


# Staff pages of one consultation or recording work in its service (`accounts.workplace`): a
# member of several services who opens one of another of their services switches to it.
CONSULTATION_OF_SERVICE = gettext_lazy(
    "This consultation belongs to the service “%(name)s”: you now work in it."
)
RECORDING_OF_SERVICE = gettext_lazy(
    "This recording belongs to the service “%(name)s”: you now work in it."
)


def _consultation_service(consultation_id: int, **_kwargs: object) -> Service | None:
    consultation = selectors.consultation_by_id(consultation_id)
    return consultation.booking.slot.service if consultation is not None else None


def _recording_service(recording_id: int, **_kwargs: object) -> Service | None:
    recording = (
        Recording.objects.select_related("consultation__booking__slot__service")
        .filter(pk=recording_id)
        .first()
    )
    return recording.consultation.booking.slot.service if recording is not None else None


def _service_asked(request: HttpRequest) -> HttpResponse | None:
    """A list's `?service=`: one of the user's services becomes the one they work in (as with the
    header's switcher); any other is refused."""
    wanted = request.GET.get("service", "")
    if not wanted:
        return None
    service = next((s for s in request.staff_services if str(s.pk) == wanted), None)
    if service is None:
        return TemplateResponse(
            request, "403.html", {"message": _("You do not work for this service.")}, status=403
        )
    if service.pk != request.service.pk:
        service_use(request, service, previous=request.service)
    return None


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


def zone_label(service: Service, at: dt.datetime) -> str:
    """The service's time zone as a reader understands it: «московское время, UTC+3»."""
    utc = utc_offset(service.tz, at)
    name = ZONE_NAMES.get(service.time_zone)
    return f"{name}, {utc}" if name else utc


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
        "zone_label": zone_label(service, slot.starts_at),
        "zone_offset": int((starts.utcoffset() or dt.timedelta(0)).total_seconds()) // 60,
        "topic": selectors.request_topic(consultation.booking.request),
        "token": consultation.client_token,
        **extra,
    }


def _render(
    request: HttpRequest,
    consultation: Consultation,
    template: str,
    context: dict,
    *,
    status: int = 200,
) -> HttpResponse:
    """Render in the service's time zone: every time on these pages is the service's time (a
    Moscow booking shows Moscow time whatever the server's zone)."""
    with timezone.override(consultation.booking.slot.service.tz):
        return TemplateResponse(request, template, context, status=status).render()


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
                return _render(
                    request,
                    consultation,
                    "consultations/entry.html",
                    _context(consultation, policy=policy, error=_("Please choose an answer.")),
                    status=400,
                )
            services.consultation_record_consent(consultation=consultation, consent=answer == "yes")
        elif policy == Service.RecordingPolicy.NOTICE:
            services.consultation_record_notice(consultation=consultation)
        request.session[NOTICE_SEEN.format(consultation.pk)] = True
        return redirect("consultations:device_check", token=token)
    if policy == Service.RecordingPolicy.NEVER:
        request.session[NOTICE_SEEN.format(consultation.pk)] = True
        return redirect("consultations:device_check", token=token)
    return _render(
        request, consultation, "consultations/entry.html", _context(consultation, policy=policy)
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
        "speedUrl": reverse("consultations:speed_test", args=[token]),
        "measuring": _("Measuring the connection…"),
        "speed": _("Download: %(down)s Mbit/s, upload: %(up)s Mbit/s."),
        "videoOk": _("This is enough for video."),
        "voiceOnly": _("This is too slow for video: choose “Voice only” or the chat in the room."),
        "speedFailed": _(
            "The connection could not be measured. If the video stutters, choose voice only."
        ),
        "minMbit": VIDEO_MIN_MBIT,
        "csrfToken": get_token(request),
    }
    return _render(
        request,
        consultation,
        "consultations/device_check.html",
        # `service`: the header names it, as on the portal's pages (the parent sees whose page).
        _context(
            consultation,
            early=early,
            check_text=check_text,
            service=consultation.booking.slot.service,
        ),
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
    config["csrfToken"] = get_token(request)
    config["fileUrl"] = reverse("consultations:client_file_upload", args=[token])
    config["fileBase"] = reverse("consultations:client_file_upload", args=[token])
    config["recordingStatusUrl"] = reverse("consultations:client_recording_status", args=[token])
    return _render(
        request,
        consultation,
        "consultations/room.html",
        _context(
            consultation,
            role="client",
            config=config,
            recording_on=selectors.recording_running(consultation) is not None,
            file_limit=filesizeformat(chat_files.max_bytes()),
            file_types=chat_files.allowed_list(),
        ),
    )


@role_required(
    Role.CONSULTANT, service_from=_consultation_service, switched=CONSULTATION_OF_SERVICE
)
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
    config["csrfToken"] = get_token(request)
    config["fileUrl"] = reverse("consultations:consultant_file_upload", args=[consultation.pk])
    config["fileBase"] = config["fileUrl"]
    # The policy and consent decide whether the room records; "in progress" comes with the admit.
    policy_refusal = selectors.recording_refusal(consultation, policy_only=True)
    config["recording"] = {
        "allowed": policy_refusal is None,
        "refusal": policy_refusal or "",
        "startUrl": reverse("consultations:recording_start", args=[consultation.pk]),
        "chunkMs": RECORDING_CHUNK_MS,
        "never": consultation.booking.slot.service.recording_policy
        == Service.RecordingPolicy.NEVER,
    }
    service = consultation.booking.slot.service
    # The request and earlier protocols beside the video: the selector audits the read.
    summary = selectors.room_request_summary(actor=request.user, consultation=consultation)
    return _render(
        request,
        consultation,
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
            summary=summary,
            earlier_protocols=summary["earlier_protocols"],
            recording_on=selectors.recording_running(consultation) is not None,
            recording_refusal=policy_refusal,
            file_limit=filesizeformat(chat_files.max_bytes()),
            file_types=chat_files.allowed_list(),
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
            "limitSoon": _("%(minutes)s minutes left of the %(max)s-minute limit."),
            "limitReached": _("The %(max)s-minute limit has been reached."),
            "confirmEnd": _("End the consultation for both sides?"),
            "crisisSent": _("The head has been alerted."),
            "recordingOn": _("Recording"),
            "recordingOff": _("Not recording"),
            "recordingStart": _("Start recording"),
            "recordingStop": _("Stop recording"),
            "recordingFailed": _("The recording could not be saved: %(reason)s"),
            "recordingUnsupported": _("This browser cannot record; the consultation goes on."),
            "fileSending": _("sending the file…"),
            "fileFailed": _("The file was not sent: %(reason)s"),
            "download": _("download"),
            "unread": _("%(count)s unread"),
            "left": _("You have left the consultation."),
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


@role_required(
    Role.CONSULTANT, service_from=_consultation_service, switched=CONSULTATION_OF_SERVICE
)
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


def _next_booking_text(consultation: Consultation) -> str:
    booking = consultation.next_booking
    if booking is None or booking.status != Booking.Status.ACTIVE:
        return ""
    return services.slot_when(booking.slot)


def _next_booking_context(request: HttpRequest, consultation: Consultation) -> dict:
    """The consultant's own free slots for the next consultation: the nearest first, then those of
    a chosen date (never earlier than the nearest, regulation 001 §5)."""
    from opora.scheduling.selectors import slot_nearest_free, slots_free_on_date

    service = consultation.booking.slot.service
    booked = consultation.next_booking
    if booked is not None and booked.status == Booking.Status.ACTIVE:
        return {"next_booked": booked, "next_booked_at": services.slot_when(booked.slot)}
    consultant = request.user
    nearest = slot_nearest_free(service=service, consultant=consultant)
    date = _parse_date(request.GET.get("next_date"))
    slots = [nearest] if nearest is not None else []
    if date is not None:
        slots = slots_free_on_date(service=service, date=date, consultant=consultant)
    return {
        "next_slots": [
            (s, timezone.localtime(s.starts_at, service.tz)) for s in slots if s is not None
        ],
        "next_nearest": nearest,
        "next_date": date,
    }


@login_required
@require_POST
def next_booking(request: HttpRequest, consultation_id: int) -> HttpResponse:
    """Book the next consultation of the same client on one of the consultant's own slots."""
    from opora.core.errors import PermissionDenied as DomainPermissionDenied
    from opora.scheduling.models import Slot

    consultation, refusal = _own_consultation(request, consultation_id)
    if refusal is not None:
        return refusal
    assert consultation is not None  # noqa: S101
    slot_id = request.POST.get("slot", "")
    slot = (
        Slot.objects.select_related("service")
        .filter(pk=int(slot_id), consultant=request.user)
        .first()
        if slot_id.isdigit()
        else None
    )
    target = reverse("consultations:protocol", args=[consultation.pk]) + "#next-booking"
    if slot is None:
        messages.error(request, _("Choose a free time for the next consultation."))
        return redirect(target)
    try:
        booking = services.next_consultation_book(
            actor=request.user, consultation=consultation, slot=slot
        )
    except (DomainError, DomainPermissionDenied) as e:
        messages.error(request, str(e.message))
    except PermissionDenied as e:
        messages.error(request, str(e))
    except ValidationError as e:
        messages.error(request, "; ".join(e.messages))
    else:
        messages.success(
            request,
            _("The next consultation is booked for %(when)s; the client is told.")
            % {"when": services.slot_when(booking.slot)},
        )
    return redirect(target)


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
    return parse_date_param(value)


@role_required(*selectors.JOURNAL_ROLES)
def journal(request: HttpRequest) -> HttpResponse:
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
                "service_choices": request.staff_services,
                "consultants": consultants if user.role != Role.CONSULTANT else None,
                "consultant": consultant,
                "date_from": date_from,
                "date_to": date_to,
                "export_query": query.urlencode(),
                "nav": "journal",
            },
        ).render()


# --- Recording: the consultant's browser uploads, the head reads ---------------------------------


def _json_error(message: object, *, code: str = "invalid", status: int = 400) -> JsonResponse:
    return JsonResponse({"ok": False, "code": code, "error": str(message)}, status=status)


def _recording_of_consultant(request: HttpRequest, recording_id: int) -> Recording | None:
    recording = (
        Recording.objects.select_related("consultation__booking__slot")
        .filter(pk=recording_id)
        .first()
    )
    if recording is None or not selectors.consultant_may_enter(
        request.user, recording.consultation
    ):
        return None
    return recording


@login_required
@require_POST
def recording_start(request: HttpRequest, consultation_id: int) -> JsonResponse:
    """Start a recording (JSON): refused with the reason when the policy or consent forbids."""
    consultation = selectors.consultation_by_id(consultation_id)
    if consultation is None or not selectors.consultant_may_enter(request.user, consultation):
        return _json_error(
            _("Only the booked consultant can record."), code="forbidden", status=403
        )
    try:
        recording = services.recording_start(
            actor=request.user,
            consultation=consultation,
            mime_type=request.POST.get("mime_type", ""),
        )
    except DomainError as e:
        return _json_error(e.message, code=e.code, status=409)
    return JsonResponse(
        {
            "ok": True,
            "id": recording.pk,
            "chunkUrl": reverse("consultations:recording_chunk", args=[recording.pk, 0]),
            "finishUrl": reverse("consultations:recording_finish", args=[recording.pk]),
        }
    )


@login_required
@require_POST
def recording_chunk(request: HttpRequest, recording_id: int, seq: int) -> JsonResponse:
    """One chunk of the recording as the raw request body (5 s of WebM)."""
    recording = _recording_of_consultant(request, recording_id)
    if recording is None:
        return _json_error(
            _("Only the booked consultant can record."), code="forbidden", status=403
        )
    limit = services.recording_chunk_max_bytes()
    # Read the raw stream (not request.body, which stops at DATA_UPLOAD_MAX_MEMORY_SIZE).
    data = request.read(limit + 1)
    try:
        chunk, created = services.recording_chunk_store(
            actor=request.user, recording=recording, seq=seq, data=data
        )
    except DomainError as e:
        return _json_error(e.message, code=e.code, status=409)
    return JsonResponse({"ok": True, "seq": chunk.seq, "duplicate": not created})


@login_required
@require_POST
def recording_finish(request: HttpRequest, recording_id: int) -> JsonResponse:
    recording = _recording_of_consultant(request, recording_id)
    if recording is None:
        return _json_error(
            _("Only the booked consultant can record."), code="forbidden", status=403
        )
    recording = services.recording_finish(actor=request.user, recording=recording)
    return JsonResponse(
        {
            "ok": True,
            "chunks": recording.chunk_count,
            "size": recording.size,
            "sha256": recording.sha256,
        }
    )


@never_cache
@require_GET
def client_recording_status(request: HttpRequest, token: str) -> JsonResponse:
    """Whether the room is being recorded now (the client's indicator after a reconnect)."""
    consultation = selectors.consultation_by_token(token)
    if consultation is None:
        raise Http404
    return JsonResponse({"on": selectors.recording_running(consultation) is not None})


@role_required(Role.HEAD, Role.ADMIN)
def recordings(request: HttpRequest) -> HttpResponse:
    """The recordings of the service the user works in, for a head or an administrator (the list
    itself shows no personal data; opening a recording asks for the reason)."""
    refusal = _service_asked(request)
    service = request.service
    if refusal is not None or not selectors.may_view_recordings(request.user, service):
        return TemplateResponse(
            request,
            "403.html",
            {"message": _("Only a head of the service can open recordings.")},
            status=403,
        )
    rows = list(selectors.recordings_for_service(actor=request.user, service=service)[:200])
    with timezone.override(service.tz):
        return TemplateResponse(
            request,
            "consultations/recordings.html",
            {
                "recordings": rows,
                "room_service": service,
                "service_choices": request.staff_services,
                "nav": "recordings",
            },
        ).render()


@role_required(
    Role.HEAD, Role.ADMIN, service_from=_recording_service, switched=RECORDING_OF_SERVICE
)
@require_http_methods(["GET", "POST"])
def recording_detail(request: HttpRequest, recording_id: int) -> HttpResponse:
    """One recording: download with a reason (logged), the access log, hand-overs."""
    recording = selectors.recording_get(actor=request.user, recording_id=recording_id)
    if recording is None:
        return TemplateResponse(
            request,
            "403.html",
            {"message": _("Only a head of the service can open recordings.")},
            status=403,
        )
    access_form = RecordingAccessForm(prefix="access")
    release_form = RecordingReleaseForm(
        prefix="release", initial={"requested_on": timezone.localdate()}
    )
    status = 200
    if request.method == "POST" and request.POST.get("action") == "download":
        access_form = RecordingAccessForm(request.POST, prefix="access")
        if access_form.is_valid():
            stream = services.recording_read(
                actor=request.user, recording=recording, reason=access_form.cleaned_data["reason"]
            )
            response = streaming_response(request, stream, content_type=recording.mime_type)
            response["Content-Disposition"] = (
                f'attachment; filename="consultation-{recording.consultation_id}'
                f'-recording-{recording.pk}.webm"'
            )
            response["Cache-Control"] = "no-store"
            return response
        status = 400
    elif request.method == "POST" and request.POST.get("action") == "release":
        release_form = RecordingReleaseForm(request.POST, prefix="release")
        if release_form.is_valid():
            try:
                release = services.recording_release_create(
                    actor=request.user, recording=recording, **release_form.cleaned_data
                )
            except ValidationError as e:
                for message in e.messages:
                    release_form.add_error(None, message)
            else:
                messages.success(
                    request,
                    _("The request is registered; hand the recording over by %(due)s.")
                    % {"due": f"{release.due_on:%d.%m.%Y}"},
                )
                return redirect("consultations:recording_detail", recording_id=recording.pk)
        status = 400
    service = recording.consultation.booking.slot.service
    with timezone.override(service.tz):
        return TemplateResponse(
            request,
            "consultations/recording_detail.html",
            {
                "recording": recording,
                "room_service": service,
                "access_form": access_form,
                "release_form": release_form,
                "accesses": recording.accesses.select_related("user")[:100],
                "releases": recording.releases.all(),
                "missing": _missing_chunks(recording),
                "nav": "recordings",
            },
            status=status,
        ).render()


def _missing_chunks(recording: Recording) -> int:
    seqs = list(recording.chunks.values_list("seq", flat=True))
    return (max(seqs) + 1 - len(seqs)) if seqs else 0


@login_required
@require_POST
def recording_release_done(request: HttpRequest, release_id: int) -> HttpResponse:
    release = get_object_or_404(RecordingRelease.objects.select_related("recording"), pk=release_id)
    recording = selectors.recording_get(actor=request.user, recording_id=release.recording_id)
    if recording is None:
        return TemplateResponse(request, "403.html", {}, status=403)
    services.recording_release_mark_released(actor=request.user, release=release)
    messages.success(request, _("Marked as handed over."))
    return redirect("consultations:recording_detail", recording_id=recording.pk)


# --- Files in the chat ----------------------------------------------------------------------------


def _file_upload(request: HttpRequest, consultation: Consultation, sender: str) -> JsonResponse:
    upload = request.FILES.get("file")
    if upload is None:
        return _json_error(_("Choose a file."), code="no_file")
    limit = chat_files.max_bytes()
    try:
        if upload.size > limit:
            chat_files.check_extension(upload.name)  # a wrong type is named as such first
            raise DomainError(chat_files.too_large_message(upload.size), code="file_too_large")
        message = services.chat_file_create(
            consultation_id=consultation.pk,
            sender=sender,
            name=upload.name,
            data=upload.read(),
            client_msg_id=request.POST.get("client_msg_id", ""),
        )
    except DomainError as e:
        return _json_error(e.message, code=e.code)
    return JsonResponse({"ok": True, "message": selectors.chat_message_payload(message)})


def _file_download(
    consultation: Consultation, seq: int, *, actor: object, reader: str
) -> HttpResponse:
    try:
        attachment, data = services.chat_file_read(
            consultation=consultation, seq=seq, actor=actor, reader=reader
        )
    except DomainError:
        raise Http404 from None
    # The file is small (OPORA_CHAT_FILE_MAX_BYTES) and already decrypted in memory: one plain
    # response, which ASGI sends without reading a file iterator into memory a second time.
    response = HttpResponse(data, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(True, attachment.name)
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def client_file_upload(request: HttpRequest, token: str) -> HttpResponse:
    consultation, refusal = _client_consultation(request, token, allow_early=False)
    if refusal is not None or consultation is None:
        return _json_error(_("This link does not open the room now."), code="closed", status=403)
    return _file_upload(request, consultation, "client")


@never_cache
@require_GET
def client_file(request: HttpRequest, token: str, seq: int) -> HttpResponse:
    """A chat file for the client: the personal link is the key (also after the consultation:
    these are the materials they were sent)."""
    consultation = selectors.consultation_by_token(token)
    if consultation is None:
        raise Http404
    return _file_download(consultation, seq, actor=None, reader="client")


@login_required
@require_POST
def consultant_file_upload(request: HttpRequest, consultation_id: int) -> HttpResponse:
    consultation, refusal = _own_consultation(request, consultation_id)
    if refusal is not None or consultation is None:
        return _json_error(
            _("Only the consultant booked for this consultation can open this page."),
            code="forbidden",
            status=403,
        )
    return _file_upload(request, consultation, "consultant")


@never_cache
@login_required
@require_GET
def consultant_file(request: HttpRequest, consultation_id: int, seq: int) -> HttpResponse:
    consultation, refusal = _own_consultation(request, consultation_id)
    if refusal is not None or consultation is None:
        return refusal or HttpResponse(status=403)
    return _file_download(consultation, seq, actor=request.user, reader="consultant")


# --- Connection speed for the device check ------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def speed_test(request: HttpRequest, token: str) -> HttpResponse:
    """GET: `bytes` random (incompressible) bytes to time a download; POST: the body is read and
    its size returned, to time an upload. Behind the client's link, so it is no open relay."""
    if selectors.consultation_by_token(token) is None:
        raise Http404
    if request.method == "POST":
        received = len(request.read(SPEED_TEST_MAX_BYTES + 1))
        if received > SPEED_TEST_MAX_BYTES:
            return _json_error(_("Too much data."), code="too_large", status=413)
        return JsonResponse({"received": received})
    wanted = request.GET.get("bytes", "")
    size = int(wanted) if wanted.isdigit() else SPEED_TEST_DEFAULT_BYTES
    size = max(1, min(size, SPEED_TEST_MAX_BYTES))
    return HttpResponse(os.urandom(size), content_type="application/octet-stream")
