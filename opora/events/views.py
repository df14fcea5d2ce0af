"""The pages of events: registration (public, phone-first), the private link, the room, verify."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opora.accounts.models import Role
from opora.accounts.workplace import StaffRequest, role_required
from opora.core.errors import DomainError, NotFound
from opora.events import janus, selectors, services
from opora.events.certificates import certificate_pdf
from opora.events.forms import RegistrationForm
from opora.events.models import Attendance, Event, Registration


def _event_or_404(pk: int) -> Event:
    try:
        return selectors.event_get(pk=pk)
    except NotFound:
        raise Http404 from None


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
            "certificate": getattr(registration, "certificate", None),
        },
    )


@require_POST
def registration_cancel_view(request: HttpRequest, token: str) -> HttpResponse:
    registration = _registration_or_404(token)
    services.registration_cancel(actor=None, registration=registration)
    messages.success(request, _("Your registration is cancelled."))
    return redirect("events:registration", token)


def _room_context(event: Event, *, display: str, publisher: bool) -> dict:
    return {
        "event": event,
        "service": event.service,
        "janus": janus.client_config(event, publisher=publisher, display=display),
        "janus_available": janus.available(),
    }


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
    context = _room_context(event, display=registration.display_name, publisher=False)
    context.update({"registration": registration, "problem": problem, "is_lead": False})
    return TemplateResponse(request, "events/room.html", context, status=410 if problem else 200)


@role_required(Role.CONSULTANT, Role.HEAD, Role.ADMIN)
def staff_room(request: StaffRequest, pk: int) -> HttpResponse:
    event = _event_or_404(pk)
    user = request.user
    if not user.is_superuser and not user.services.filter(pk=event.service_id).exists():
        raise Http404
    context = _room_context(event, display=request.user.display_name, publisher=True)
    context.update({"problem": "", "is_lead": True, "registration": None})
    return TemplateResponse(request, "events/room.html", context)


def _presence(request: HttpRequest, event: Event, **who: object) -> JsonResponse:
    action = json.loads(request.body or b"{}").get("action")
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
@role_required(Role.CONSULTANT, Role.HEAD, Role.ADMIN)
def staff_presence(request: StaffRequest, pk: int) -> JsonResponse:
    event = _event_or_404(pk)
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
