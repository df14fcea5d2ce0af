"""Recording: the consultant's browser uploads, the head reads."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest, role_required
from opora.consultations import selectors, services
from opora.consultations.forms import (
    RecordingAccessForm,
    RecordingReleaseForm,
)
from opora.consultations.models import (
    Recording,
    RecordingRelease,
)
from opora.consultations.recording_http import (
    recorder_views,
    recording_download,
    recording_started,
)
from opora.consultations.views._common import (
    RECORDING_OF_SERVICE,
    _json_error,
    _recording_service,
    _service_asked,
)
from opora.core.errors import DomainError

# --- Recording: the consultant's browser uploads, the head reads ---------------------------------


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


@role_required(Action.RECORDING_MAKE)
@require_POST
def recording_start(request: StaffRequest, consultation_id: int) -> JsonResponse:
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
    return recording_started(
        recording,
        chunk_url=reverse("consultations:recording_chunk", args=[recording.pk, 0]),
        finish_url=reverse("consultations:recording_finish", args=[recording.pk]),
    )


# The recorder's uploads: the booked consultant's own consultation only.
recording_chunk, recording_finish = recorder_views(
    action=Action.RECORDING_MAKE,
    find=_recording_of_consultant,
    forbidden=gettext_lazy("Only the booked consultant can record."),
    store_chunk=services.recording_chunk_store,
    finish=services.recording_finish,
)


@never_cache
@require_GET
def client_recording_status(request: HttpRequest, token: str) -> JsonResponse:
    """Whether the room is being recorded now (the client's indicator after a reconnect)."""
    consultation = selectors.consultation_by_token(token)
    if consultation is None:
        raise Http404
    return JsonResponse({"on": selectors.recording_running(consultation) is not None})


@role_required(Action.RECORDING_VIEW)
def recordings(request: StaffRequest) -> HttpResponse:
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
    Action.RECORDING_VIEW, service_from=_recording_service, switched=RECORDING_OF_SERVICE
)
@require_http_methods(["GET", "POST"])
def recording_detail(request: StaffRequest, recording_id: int) -> HttpResponseBase:
    """One recording: download with a reason (logged), the access log, hand-overs."""
    recording = selectors.recording_get(actor=request.user, recording_id=recording_id)
    if recording is None:  # none, or another service's: its existence does not leak
        raise Http404
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
            return recording_download(
                request,
                recording,
                stream,
                filename=f"consultation-{recording.consultation_id}-recording-{recording.pk}.webm",
            )
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


@role_required(Action.RECORDING_DOWNLOAD)
@require_POST
def recording_release_done(request: StaffRequest, release_id: int) -> HttpResponse:
    release = get_object_or_404(RecordingRelease.objects.select_related("recording"), pk=release_id)
    recording = selectors.recording_get(actor=request.user, recording_id=release.recording_id)
    if recording is None:  # another service's
        raise Http404
    services.recording_release_mark_released(actor=request.user, release=release)
    messages.success(request, _("Marked as handed over."))
    return redirect("consultations:recording_detail", recording_id=recording.pk)
