"""The pages of events: registration (public, phone-first), the private link, the room, verify."""

from __future__ import annotations

import datetime as dt
import json
import logging

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opora.accounts.models import User
from opora.accounts.policy import Action, can
from opora.accounts.workplace import StaffRequest, role_required
from opora.core.errors import DomainError, NotFound
from opora.core.models import Service
from opora.events import janus, selectors, services
from opora.events import recording as rec
from opora.events import room as room_services
from opora.events.access import may_lead as _may_lead
from opora.events.certificates import certificate_pdf
from opora.events.forms import EventForm, RegistrationForm
from opora.events.models import Attendance, Event, Registration

logger = logging.getLogger(__name__)


def _event_or_404(pk: int) -> Event:
    try:
        return selectors.event_get(pk=pk)
    except NotFound:
        raise Http404 from None


def _json_body(request: HttpRequest) -> dict:
    """The room's JSON body (its script sends `application/json`); anything else is empty, so a
    form post answers "unknown action" (400) rather than failing."""
    if request.content_type != "application/json":
        return {}
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _registration_or_404(token: str) -> Registration:
    try:
        return services.registration_for_link(token=token)
    except NotFound:
        raise Http404 from None


def register(request: HttpRequest, pk: int) -> HttpResponse:
    event = _event_or_404(pk)
    if event.is_group:
        raise Http404
    policy = services.policy_of(event.service)
    form = RegistrationForm(request.POST or None)
    if not policy.allows_anonymous:
        del form.fields["anonymous"]
    closed = event.state != Event.State.ANNOUNCED or event.ends_at <= timezone.now()
    if request.method == "POST" and not closed and form.is_valid():
        try:
            result = services.registration_create(
                actor=None, event=event, **{k: v for k, v in form.cleaned_data.items()}
            )
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            if not result.created:
                messages.info(request, _("You were already registered with this contact."))
            return redirect("events:registration", result.registration.token)
    return TemplateResponse(
        request,
        "events/register.html",
        {
            "event": event,
            "service": event.service,
            "form": form,
            "closed": closed,
            "places_left": selectors.places_left(event),
        },
    )


def registration_page(request: HttpRequest, token: str) -> HttpResponse:
    registration = _registration_or_404(token)
    event = registration.event
    return TemplateResponse(
        request,
        "events/registration.html",
        {
            "registration": registration,
            "event": event,
            "service": event.service,
            "ended": event.ends_at <= timezone.now(),
            "nav": "events",
            "certificate": getattr(registration, "certificate", None),
        },
    )


@require_POST
def registration_cancel_view(request: HttpRequest, token: str) -> HttpResponse:
    registration = _registration_or_404(token)
    services.registration_cancel(actor=None, registration=registration)
    messages.success(request, _("Your registration is cancelled."))
    return redirect("events:registration", token)


def _room_context(event: Event, *, who: str, display: str, publisher: bool, urls: dict) -> dict:
    """The room page's settings; creates the Janus room (with this participant's token) first.
    When Janus is not configured or does not answer, the page says the room is unavailable."""
    config: dict = {}
    if janus.available():  # `who`: room.who_of() of the participant or the member of staff
        token = janus.participant_token(event, who)
        try:
            janus.room_ensure(event, [token])
        except (OSError, janus.JanusError):
            logger.warning("janus unavailable for event %s", event.pk)
        else:
            config = {
                **janus.client_config(event, publisher=publisher, display=display, who=who),
                "token": token,
                **urls,
            }
    return {"event": event, "service": event.service, "config": config}


def room(request: HttpRequest, token: str) -> HttpResponse:
    """A participant's room. Another event's link or one after the end says so plainly."""
    registration = _registration_or_404(token)
    event = registration.event
    expected = request.GET.get("event")
    problem = ""
    if expected and expected != str(event.pk):
        problem = _("This link is for another event: «%(title)s».") % {"title": event.title}
    elif event.ends_at <= timezone.now():
        problem = _("This event has ended; the link no longer opens the room.")
    elif registration.status != Registration.Status.CONFIRMED:
        problem = _("You have no place at this event, so the room is closed to you.")
    context = {"event": event, "service": event.service, "config": {}}
    policy = event.service.recording_policy
    if not problem and policy == Service.RecordingPolicy.NOTICE:
        # The notice is on the page above the room, shown before the participant joins.
        rec.registration_recording_notice(registration=registration)
    if not problem:
        context = _room_context(
            event,
            who=room_services.who_of(registration=registration),
            display=registration.display_name,
            publisher=False,
            urls={
                "presence": reverse("events:presence", args=[token]),
                "messages": reverse("events:messages", args=[token]),
            },
        )
    context.update(
        {
            "registration": registration,
            "problem": problem,
            "is_lead": False,
            "recording_policy": policy,
            "recording_on": rec.recording_running(event) is not None,
        }
    )
    return TemplateResponse(request, "events/room.html", context, status=410 if problem else 200)


@role_required(Action.EVENT_RUN)
def staff_room(request: StaffRequest, pk: int) -> HttpResponse:
    event = _staff_event(request, pk)
    user = request.user
    policy = event.service.recording_policy
    may_record = policy != Service.RecordingPolicy.NEVER and rec.may_record(user, event)
    urls: dict = {
        "presence": reverse("events:staff_presence", args=[pk]),
        "messages": reverse("events:staff_messages", args=[pk]),
        "moderate": reverse("events:staff_moderate", args=[pk]),
    }
    if may_record:
        urls["recording"] = {
            "startUrl": reverse("events:staff_recording_start", args=[pk]),
            "chunkMs": 5000,
        }
    context = _room_context(
        event,
        who=room_services.who_of(user=user),
        display=user.display_name,
        publisher=True,
        urls=urls,
    )
    context.update(
        {
            "problem": "",
            "is_lead": True,
            "registration": None,
            "recording_policy": policy,
            "may_record": may_record,
            "recording_on": rec.recording_running(event) is not None,
        }
    )
    return TemplateResponse(request, "events/room.html", context)


def _staff_event(request: StaffRequest, pk: int) -> Event:
    """The event, when the policy lets the staff member run its service's events (404 otherwise:
    `role_required(Action.EVENT_RUN)` has let their role in)."""
    event = _event_or_404(pk)
    if not can(request.user, Action.EVENT_RUN, event):
        raise Http404
    return event


def _presence(request: HttpRequest, event: Event, **who: object) -> JsonResponse:
    action = _json_body(request).get("action")
    if action == "join":
        stay = services.attendance_join(event=event, **who)  # type: ignore[arg-type]
        return JsonResponse({"attendance": stay.pk})
    if action == "leave":
        open_stay = Attendance.objects.filter(event=event, left_at__isnull=True, **who).first()
        if open_stay is not None:
            services.attendance_leave(attendance=open_stay)
        return JsonResponse({"ok": True})
    return JsonResponse({"error": "action"}, status=400)


@require_POST
def presence(request: HttpRequest, token: str) -> JsonResponse:
    registration = _registration_or_404(token)
    event = registration.event
    if registration.status != Registration.Status.CONFIRMED or event.ends_at <= timezone.now():
        return JsonResponse({"error": "closed"}, status=410)
    return _presence(request, event, registration=registration)


@require_POST
@role_required(Action.EVENT_RUN)
def staff_presence(request: StaffRequest, pk: int) -> JsonResponse:
    event = _staff_event(request, pk)
    return _presence(request, event, user=request.user)


def certificate_download(request: HttpRequest, token: str) -> HttpResponse:
    registration = _registration_or_404(token)
    certificate = getattr(registration, "certificate", None)
    if certificate is None:
        raise Http404
    response = HttpResponse(certificate_pdf(certificate), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="certificate.pdf"'
    return response


def verify(request: HttpRequest, code: str) -> HttpResponse:
    try:
        certificate = selectors.certificate_by_code(code=code)
    except NotFound:
        return TemplateResponse(request, "events/verify.html", {"certificate": None}, status=404)
    return TemplateResponse(request, "events/verify.html", {"certificate": certificate})


def _messages(request: HttpRequest, event: Event, **who: object) -> JsonResponse:
    if request.method == "POST":
        data = _json_body(request)
        feed = data.get("feed")
        try:
            room_services.room_message_post(
                event=event,
                kind=str(data.get("kind", "chat")),
                text=str(data.get("text", ""))[:1000],
                # The feed is the server's (from the link or the session); one a page names is
                # only compared with it, and refused when it differs.
                claimed_feed=feed if isinstance(feed, int) and not isinstance(feed, bool) else None,
                mid=str(data.get("mid", ""))[:8],
                **who,  # type: ignore[arg-type]
            )
        except DomainError as exc:
            return JsonResponse({"error": str(exc.message)}, status=exc.http_status)
        except (OSError, janus.JanusError):
            return JsonResponse({"error": "janus"}, status=503)
    try:
        after = int(request.GET.get("after", "0"))
    except ValueError:
        after = 0
    return JsonResponse(
        {
            "items": room_services.room_messages_since(event=event, after=after),
            # The "recording" indicator of every page follows this.
            "recording": rec.recording_running(event) is not None,
        }
    )


def messages_view(request: HttpRequest, token: str) -> JsonResponse:
    registration = _registration_or_404(token)
    event = registration.event
    if registration.status != Registration.Status.CONFIRMED or event.ends_at <= timezone.now():
        return JsonResponse({"error": "closed"}, status=410)
    return _messages(request, event, registration=registration)


@role_required(Action.EVENT_RUN)
def staff_messages(request: StaffRequest, pk: int) -> JsonResponse:
    event = _staff_event(request, pk)
    return _messages(request, event, user=request.user)


@require_POST
@role_required(Action.EVENT_RUN)
def staff_moderate(request: StaffRequest, pk: int) -> JsonResponse:
    event = _staff_event(request, pk)
    data = _json_body(request)
    try:
        room_services.room_moderate(
            actor=request.user,
            event=event,
            message_id=int(data.get("message", 0)),
            action=str(data.get("action", "")),
        )
    except DomainError as exc:
        return JsonResponse({"error": str(exc.message)}, status=exc.http_status)
    except (OSError, janus.JanusError):
        return JsonResponse({"error": "janus"}, status=503)
    return JsonResponse({"ok": True})


# --- the staff's page of a service's events ------------------------------------------------------


@role_required(Action.EVENT_RUN)
def staff_events(request: StaffRequest) -> HttpResponse:
    """The current service's events: coming and past, with the places taken and the waiting."""
    service = request.service
    coming, past = selectors.events_coming_and_past(service=service) if service else ([], [])
    return TemplateResponse(
        request,
        "events/staff_events.html",
        {
            "coming": coming,
            "past": past,
            "may_manage": service is not None
            and can(request.user, Action.EVENT_MANAGE, service=service),
            "nav": "events",
        },
    )


# Which field of the event form a service's refusal is about (the rest are the form's own).
FIELD_OF_CODE = {
    "past": "starts_at",
    "invalid_series": "every_days",
    "too_many_invited": "invited",
    "invited_not_group": "invited",
    "capacity_below_confirmed": "capacity",
    "lead": "lead",
}


def _form_error(form: EventForm, exc: DomainError) -> None:
    name = FIELD_OF_CODE.get(exc.code)
    if exc.code == "series_too_long":
        name = "until" if form.cleaned_data.get("until") else "count"
    form.add_error(name if name in form.fields else None, str(exc.message))


def _service_time(value: dt.datetime, service: Service) -> dt.datetime:
    """A datetime the form read in the active time zone, as that wall time in the service's."""
    naive = timezone.make_naive(value) if timezone.is_aware(value) else value
    return timezone.make_aware(naive, service.tz)


def _staff_of(service: Service) -> QuerySet[User]:
    return User.objects.filter(services=service, is_active=True).order_by(
        "last_name", "first_name", "pk"
    )


@role_required(Action.EVENT_MANAGE)
def staff_event_new(request: StaffRequest) -> HttpResponse:
    """Create an event or a recurring series; a group consultation with its invited clients."""
    service = request.service
    if service is None:
        raise Http404
    clients = selectors.invitable_clients(actor=request.user, service=service)
    form = EventForm(
        request.POST or None,
        staff=_staff_of(service),
        clients=clients,
        initial={"lead": request.user.pk, "language": Event.Language.RUSSIAN},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["starts_at"] = _service_time(data["starts_at"], service)
        data.pop("repeat", None)
        try:
            events = services.event_plan_create(
                actor=request.user,
                service=service,
                invited=list(data.pop("invited")),
                presenters=list(data.pop("presenters")),
                **data,
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            if len(events) > 1:
                messages.success(
                    request, _("A series of %(n)s events is created.") % {"n": len(events)}
                )
            else:
                messages.success(request, _("The event is created."))
            return redirect("events:staff_event", events[0].pk)
    return TemplateResponse(
        request,
        "events/staff_event_form.html",
        {"form": form, "event": None, "nav": "events", "clients": clients},
    )


def _managed_event(request: StaffRequest, pk: int) -> Event:
    event = _event_or_404(pk)
    if not can(request.user, Action.EVENT_MANAGE, event):
        raise Http404
    return event


@role_required(Action.EVENT_MANAGE)
def staff_event_edit(request: StaffRequest, pk: int) -> HttpResponse:
    event = _managed_event(request, pk)
    tz = event.service.tz
    initial = {
        **{name: getattr(event, name) for name in services.EDITABLE if name != "lead"},
        "starts_at": timezone.localtime(event.starts_at, tz).replace(tzinfo=None),
        "lead": event.lead_id,
        "presenters": list(event.presenters.values_list("pk", flat=True)),
    }
    form = EventForm(
        request.POST or None, staff=_staff_of(event.service), creating=False, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["starts_at"] = _service_time(data["starts_at"], event.service)
        try:
            services.event_update(
                actor=request.user, event=event, presenters=list(data.pop("presenters")), **data
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The event is saved."))
            return redirect("events:staff_event", event.pk)
    return TemplateResponse(
        request,
        "events/staff_event_form.html",
        {"form": form, "event": event, "nav": "events"},
    )


@require_POST
@role_required(Action.EVENT_MANAGE)
def staff_event_cancel(request: StaffRequest, pk: int) -> HttpResponse:
    """Cancel a coming event; its participants are told through the outbox."""
    event = _managed_event(request, pk)
    try:
        services.event_cancel(actor=request.user, event=event)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The event is cancelled; its participants are told."))
    return redirect("events:staff_event", pk)


@role_required(Action.EVENT_RUN)
def staff_event(request: StaffRequest, pk: int) -> HttpResponse:
    """One event: the participants (with the registry's note), the announcement, certificates."""
    event = _staff_event(request, pk)
    user = request.user
    may_lead = _may_lead(user, event)
    may_announce = can(user, Action.EVENT_ANNOUNCE, event)
    if request.method == "POST" and may_lead:
        action = request.POST.get("action")
        try:
            if action == "note":
                registration = Registration.objects.filter(
                    event=event, pk=request.POST.get("registration") or 0
                ).first()
                if registration is None:
                    raise Http404
                services.registration_note_set(
                    actor=user, registration=registration, note=request.POST.get("note", "")
                )
                messages.success(request, _("The note is saved."))
            elif action == "announce" and may_announce:
                sent = services.event_announcement_send(actor=user, event=event)
                messages.success(
                    request,
                    _(
                        "The announcement is queued: %(mail)s by e-mail, %(chats)s to messenger "
                        "subscribers."
                    )
                    % {"mail": sent.mail, "chats": sent.chats},
                )
            elif action == "certificates":
                issued = services.certificates_issue(actor=user, event=event)
                messages.success(request, _("Certificates issued: %(n)s.") % {"n": len(issued)})
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect("events:staff_event", pk)
    return TemplateResponse(
        request,
        "events/staff_event.html",
        {
            "event": event,
            "registrations": selectors.event_registrations(event=event),
            "may_lead": may_lead,
            "may_announce": may_announce,
            "may_manage": can(user, Action.EVENT_MANAGE, event),
            "recordings": rec.recordings_of(actor=user, event=event),
            "ended": event.ends_at <= timezone.now(),
            "nav": "events",
        },
    )
