"""What the consultation pages share: the client's consultation by link, rendering, services."""

import datetime as dt

from django.http import (
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opora.accounts.workplace import StaffRequest, service_use
from opora.consultations import selectors
from opora.consultations.models import (
    Consultation,
    Recording,
)
from opora.consultations.selectors import LinkProblem
from opora.core.inputs import parse_date_param
from opora.core.models import Service
from opora.core.timezones import ZONE_NAMES, utc_offset

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


def _service_asked(request: StaffRequest) -> HttpResponse | None:
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


def _parse_date(value: str | None) -> dt.date | None:
    return parse_date_param(value)


def _json_error(message: object, *, code: str = "invalid", status: int = 400) -> JsonResponse:
    return JsonResponse({"ok": False, "code": code, "error": str(message)}, status=status)
