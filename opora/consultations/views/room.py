"""The client's pages (entry, device check, room) reached by the personal link, and the consultant's room."""

import os

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
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from opora.accounts import policy
from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest, role_required
from opora.consultations import crisis as crisis_info
from opora.consultations import files as chat_files
from opora.consultations import selectors, services
from opora.consultations.forms import (
    FailureForm,
)
from opora.consultations.models import (
    Consultation,
)
from opora.consultations.selectors import LinkProblem
from opora.consultations.views._common import (
    CONSULTATION_OF_SERVICE,
    NOTICE_SEEN,
    RECORDING_CHUNK_MS,
    SPEED_TEST_DEFAULT_BYTES,
    SPEED_TEST_MAX_BYTES,
    VIDEO_MIN_MBIT,
    _client_consultation,
    _consultation_service,
    _context,
    _json_error,
    _render,
)
from opora.core.models import Service
from opora.scheduling.models import FACE_TO_FACE_FORMS, Booking


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
    Action.CONSULTATION_CONDUCT,
    service_from=_consultation_service,
    switched=CONSULTATION_OF_SERVICE,
)
def consultant_room(request: StaffRequest, consultation_id: int) -> HttpResponse:
    """The booked consultant's side of the room: admit, clock, end."""
    consultation = selectors.consultation_by_id(consultation_id)
    if consultation is None or not selectors.consultant_may_enter(request.user, consultation):
        return TemplateResponse(
            request,
            "403.html",
            {"message": _("Only the consultant booked for this consultation can open its room.")},
            status=403,
        )
    if consultation.form in FACE_TO_FACE_FORMS:
        # Held face to face: no room, the consultant marks it held or not (issue 12).
        return redirect("consultations:face_to_face", consultation.pk)
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


@role_required(Action.CONSULTATION_CONDUCT)
def consultant_room_for_booking(request: StaffRequest, booking_id: int) -> HttpResponse:
    """From "my day": the room of a booking (created on first open)."""
    booking = get_object_or_404(
        Booking.objects.select_related("slot"), pk=booking_id, status=Booking.Status.ACTIVE
    )
    if not policy.can(request.user, Action.CONSULTATION_CONDUCT, booking):  # the booked one
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
