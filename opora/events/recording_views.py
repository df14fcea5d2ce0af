"""The pages of an event's recording: the lead's recorder (JSON), the participant's consent, and
the head's recording page (download with a reason, the access log)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from opora.accounts.policy import Action, can
from opora.accounts.workplace import StaffRequest, role_required
from opora.consultations.forms import RecordingAccessForm
from opora.consultations.recording_http import (
    json_error,
    recorder_views,
    recording_download,
    recording_started,
)
from opora.core.errors import DomainError, NotFound
from opora.events import recording as rec
from opora.events import selectors, services
from opora.events.models import Event, EventRecording, Registration


def _recordable_event(request: StaffRequest, pk: int) -> Event | None:
    try:
        event = selectors.event_get(pk=pk)
    except NotFound:
        return None
    return event if can(request.user, Action.EVENT_RUN, event) else None


def _own_recording(request: StaffRequest, recording_id: int) -> EventRecording | None:
    recording = (
        EventRecording.objects.select_related("event__service").filter(pk=recording_id).first()
    )
    if recording is None or recording.started_by_id != request.user.pk:
        return None
    return recording


@role_required(Action.EVENT_RECORD)
@require_POST
def staff_recording_start(request: StaffRequest, pk: int) -> JsonResponse:
    """Start recording the room (JSON): refused with the reason the policy or consents give."""
    event = _recordable_event(request, pk)
    if event is None:
        raise Http404
    try:
        recording = rec.event_recording_start(
            actor=request.user, event=event, mime_type=request.POST.get("mime_type", "")
        )
    except DomainError as e:
        return json_error(
            e.message, code=e.code, status=e.http_status if e.code == "forbidden" else 409
        )
    return recording_started(
        recording,
        chunk_url=reverse("events:staff_recording_chunk", args=[recording.pk, 0]),
        finish_url=reverse("events:staff_recording_finish", args=[recording.pk]),
    )


# The recorder's uploads: only into the recording the user started.
staff_recording_chunk, staff_recording_finish = recorder_views(
    action=Action.EVENT_RECORD,
    find=_own_recording,
    forbidden=gettext_lazy("Only the one who started the recording uploads it."),
    store_chunk=rec.event_recording_chunk_store,
    finish=rec.event_recording_finish,
)


@role_required(Action.RECORDING_VIEW)
@require_http_methods(["GET", "POST"])
def staff_recording_detail(request: StaffRequest, recording_id: int) -> HttpResponseBase:
    """One recording of an event: download with a reason (logged), and the access log."""
    recording = rec.recording_get(actor=request.user, recording_id=recording_id)
    if recording is None:  # none, or another service's: its existence does not leak
        raise Http404
    form = RecordingAccessForm(request.POST or None, prefix="access")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            stream = rec.event_recording_read(
                actor=request.user, recording=recording, reason=form.cleaned_data["reason"]
            )
            return recording_download(
                request,
                recording,
                stream,
                filename=f"event-{recording.event_id}-recording-{recording.pk}.webm",
            )
        status = 400
    with timezone.override(recording.event.service.tz):
        return TemplateResponse(
            request,
            "events/recording_detail.html",
            {
                "recording": recording,
                "event": recording.event,
                "access_form": form,
                "accesses": recording.accesses.select_related("user")[:100],
                "nav": "events",
            },
            status=status,
        ).render()


@require_POST
def recording_consent(request: HttpRequest, token: str) -> HttpResponse:
    """A participant's answer to the room's recording prompt (yes or no), then back to the room."""
    try:
        registration = services.registration_for_link(token=token)
    except NotFound:
        raise Http404 from None
    answer = request.POST.get("consent")
    if registration.status != Registration.Status.CONFIRMED or answer not in ("yes", "no"):
        messages.error(request, _("Choose whether the room may be recorded."))
    else:
        rec.registration_recording_consent(registration=registration, consent=answer == "yes")
        messages.success(request, _("Your answer is saved."))
    return redirect("events:room", token)
