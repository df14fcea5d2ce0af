"""The client's pages (entry, device check, room) reached by the personal link, and the consultant's room."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from opora.consultations import selectors, services
from opora.consultations.models import Consultation
from opora.consultations.selectors import LinkProblem
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
    return TemplateResponse(
        request,
        "consultations/room.html",
        _context(consultation, role="consultant", config=config, nav="day"),
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


def _room_config(consultation: Consultation, *, role: str, ws_path: str, user_id: str) -> dict:
    service = consultation.booking.slot.service
    return {
        "role": role,
        "key": str(consultation.pk),
        "wsPath": ws_path,
        "iceServers": selectors.ice_servers(user_id=user_id),
        "maxMinutes": service.max_consultation_minutes,
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
        },
    }
