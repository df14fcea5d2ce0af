"""The public portal: services, their schedules, the request form (24/7), anonymous requests,
self-booking and the request's private page. Thin: forms parse, services write, selectors read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods, require_POST

from opora.accounts.policy import Action, can
from opora.consultations.selectors import JOIN_EARLY, link_problem
from opora.consultations.services import consultation_for_booking
from opora.core import ratelimit
from opora.core.actors import ClientActor
from opora.core.errors import Conflict, DomainError, NotFound
from opora.core.inputs import check_date, parse_date_param
from opora.core.timezones import KAZAKHSTAN_ZONES, utc_offset
from opora.intake.consents import SPECIAL_CONSENT_TEXT, consent_records_for_request
from opora.intake.consents import consent_withdraw as intake_consent_withdraw
from opora.intake.models import ConsentChannel, ServiceRequest
from opora.intake.selectors import request_contact_differences
from opora.portal import selectors
from opora.portal.drafts import DRAFT_TTL, BookingDraft, draft_finish, draft_load, draft_save
from opora.portal.forms import FIELDS_BY_CODE, PortalRequestForm
from opora.portal.services import (
    FormAlreadySent,
    Ineligible,
    booking_at_time,
    booking_draft_complete,
    booking_draft_start,
    contact_confirmation_check,
    contact_confirmation_open,
    contact_confirmation_send,
    contact_confirmation_via,
    form_key_clean,
    form_key_new,
    portal_request_submit,
)
from opora.scheduling import services as scheduling
from opora.scheduling.calendar import local_now
from opora.scheduling.ics import booking_ics
from opora.scheduling.selectors import slot_nearest_free


def _render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    service: Any = None,
    status: int = 200,
    private: bool = False,
) -> HttpResponse:
    """Render now, in the service's time zone (every time on the portal is the service's)."""
    ctx = {"service": service, **context}
    if service is not None:
        ctx.setdefault("local_now", local_now(service))
        with timezone.override(service.tz):
            response = render(request, template, ctx, status=status)
    else:
        response = render(request, template, ctx, status=status)
    if private:
        # The private link is a bearer secret: not cached, not indexed, never sent to another
        # site as a referrer ("no-referrer" would make the browser send `Origin: null` on our own
        # forms, which the CSRF check refuses).
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "same-origin"
        response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _see_other(url: str) -> HttpResponse:
    response = redirect(url)
    response.status_code = 303
    return response


def _not_found(request: HttpRequest, *, service: Any = None) -> HttpResponse:
    return _render(request, "portal/not_found.html", {}, service=service, status=404, private=True)


def _service_or_404(request: HttpRequest, code: str) -> Any:
    try:
        return selectors.service_public_get(code=code)
    except NotFound:
        return None


def _attach(form: PortalRequestForm, err: DomainError) -> None:
    field = FIELDS_BY_CODE.get(getattr(err, "code", ""))
    form.add_error(field if field in form.fields else None, err.message)


def _checks_exhausted(request: HttpRequest) -> bool:
    """More than `ratelimit.PORTAL_IIN_CHECK` registry checks from one address is refused
    (counted in the cache every worker shares)."""
    return ratelimit.limit_hit(ratelimit.PORTAL_IIN_CHECK, request)


# --- public pages -----------------------------------------------------------------------------


def index(request: HttpRequest) -> HttpResponse:
    return _render(request, "portal/index.html", {"services": selectors.services_public()})


def service_page(request: HttpRequest, code: str) -> HttpResponse:
    """The service's public page: the actions first (request, book, my booking), then short
    facts, then the days with free times and the published schedule behind disclosures."""
    service = _service_or_404(request, code)
    if service is None:
        return _not_found(request)
    nearest = None
    calendar = None
    if service.allows_self_booking:
        nearest = slot_nearest_free(service=service)
        if nearest is not None:
            calendar = selectors.free_times(service=service, days=selectors.CALENDAR_DAYS)
    return _render(
        request,
        "portal/service.html",
        {
            "forms_of_help": selectors.service_forms(service),
            "request_channels": selectors.request_channels(service),
            "schedule": selectors.schedule_published(service=service),
            "nearest": nearest,
            "calendar": calendar,
            "zone": selectors.zone_label(service),
        },
        service=service,
    )


@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest, code: str) -> HttpResponse:
    """The request form, open 24/7. The request is stored before the page says "received"."""
    return _request_form(request, code, anonymous=False, booking=False)


@require_http_methods(["GET", "POST"])
def anonymous_new(request: HttpRequest, code: str) -> HttpResponse:
    """Regulation 004: a request without any personal data; the client keeps a code and a link."""
    return _request_form(request, code, anonymous=True, booking=False)


@require_http_methods(["GET", "POST"])
def book_start(request: HttpRequest, code: str) -> HttpResponse:
    """Self-booking, step 1: who books (with the online IIN check where the service has one).

    Nothing is registered yet: the details wait in the session as a draft (`portal.drafts`)
    until a time is chosen at step 2 (`book_time`)."""
    return _request_form(request, code, anonymous=False, booking=True)


def _unavailable(request: HttpRequest, service: Any, *, anonymous: bool, booking: bool) -> Any:
    if (anonymous and (not service.allows_anonymous or service.requires_eligibility)) or (
        booking and not service.allows_self_booking
    ):
        return _render(
            request,
            "portal/unavailable.html",
            {"anonymous": anonymous, "booking": booking},
            service=service,
            status=404,
        )
    return None


def _draft_session_expires(request: HttpRequest) -> None:
    """A visitor's session that holds a draft ends with it: abandoned personal data is not
    kept for the default two weeks. Expired sessions (and so drafts) are purged here as well,
    so nothing waits for a manual `clearsessions`. A staff member's own session is left alone."""
    if not request.user.is_authenticated:
        request.session.set_expiry(int(DRAFT_TTL.total_seconds()))
    type(request.session).clear_expired()


def _draft_initial(request: HttpRequest, service: Any) -> dict[str, Any]:
    """What step 1 had, when the client comes back from step 2 to change it."""
    draft = draft_load(request.session, service_id=service.pk)
    if draft is None or draft.done_token:
        return {}
    d = draft.data
    return {
        "full_name": d.full_name,
        "iin": d.iin,
        "phone": d.phone,
        "email": d.email,
        "requester_kind": d.requester_kind,
        "child_age": d.child_age,
        "typical_question": d.typical_question,
        "topic": d.topic,
        "reason": d.reason,
        "preferred_form": d.preferred_form,
    }


def _request_form(
    request: HttpRequest, code: str, *, anonymous: bool, booking: bool
) -> HttpResponse:
    service = _service_or_404(request, code)
    if service is None:
        return _not_found(request)
    template = "portal/request_form.html"
    closed = _unavailable(request, service, anonymous=anonymous, booking=booking)
    if closed is not None:
        return closed
    consent = None if anonymous else selectors.consent_current(service)
    refusal = ""
    status = 200
    # The request and anonymous forms carry a key made when they are shown: a double tap or a
    # resent form makes one request (self-booking has its draft's key instead).
    form_key = None if booking else form_key_new()
    if request.method == "POST":
        posted_key = None if booking else form_key_clean(request.POST.get("form_key"))
        if posted_key is not None:
            form_key = posted_key
        form = PortalRequestForm(
            request.POST, service=service, anonymous=anonymous, booking=booking
        )
        limited = ratelimit.limit_hit(ratelimit.PORTAL_FORM, request)  # shared rate limit
        if limited:
            form.add_error(None, ratelimit.message())
        elif form.is_valid():
            if service.requires_eligibility and _checks_exhausted(request):
                limited = True
                form.add_error(
                    None,
                    _(
                        "Too many checks from this connection in the last hour. Please try "
                        "again later or call the service."
                    ),
                )
            else:
                try:
                    if booking:
                        data = form.to_request()
                        check = booking_draft_start(service=service, data=data, consent=consent)
                        draft = BookingDraft.new(
                            service_id=service.pk,
                            data=data,
                            consent_id=consent.pk if consent is not None else None,
                            check_id=check.pk if check is not None else None,
                        )
                        draft_save(request.session, draft)
                        _draft_session_expires(request)
                        return _see_other(reverse("portal:book_time", args=[service.code]))
                    created = portal_request_submit(
                        service=service,
                        data=form.to_request(),
                        consent=consent,
                        form_key=posted_key,
                    )
                except Ineligible as err:
                    refusal = str(err.message)
                except FormAlreadySent as err:
                    # What is shown now is a new form: its next send is a new request.
                    form_key = form_key_new()
                    _attach(form, err)
                except DomainError as err:
                    _attach(form, err)
                else:
                    return _see_other(reverse("portal:received", args=[created.public_token]))
        status = 429 if limited else 400 if (form.errors or refusal) else 200
    initial: dict[str, Any] = {}
    if request.method != "POST" and booking:
        initial = _draft_initial(request, service)
    if request.method != "POST":
        form = PortalRequestForm(
            service=service, anonymous=anonymous, booking=booking, initial=initial
        )
    nearest = None
    if booking:
        nearest = slot_nearest_free(service=service)
    response = _render(
        request,
        template,
        {
            "form": form,
            "anonymous": anonymous,
            "booking": booking,
            "consent": consent,
            "special_consent_text": SPECIAL_CONSENT_TEXT,
            "refusal": refusal,
            "nearest": nearest,
            "zone": selectors.zone_label(service),
            "form_key": form_key,
        },
        service=service,
        status=status,
        # Typed details shown again from the draft: never cached.
        private=bool(initial),
    )
    if form_key is not None:
        # The key is this visitor's alone: a cache must never hand the same form to another.
        response["Cache-Control"] = "no-store"
    return response


def _parse_when(value: str | None) -> dt.datetime | None:
    """A tile's value: an aware ISO date-time (anything else is "no time chosen")."""
    try:
        when = dt.datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    check_date(when.date())  # year 1 or 9999 overflows on the way to UTC
    return when


def _picker_context(request: HttpRequest, service: Any) -> dict[str, Any]:
    """The time picker: 3 days with free times from `?from=` (nearest first), one tile per time;
    a named consultant (`?consultant=`) only where the service allows it."""
    params = request.POST if request.method == "POST" else request.GET
    start = _parse_date(request.GET.get("from"))
    consultant = selectors.choosable_consultant_get(service, params.get("consultant"))
    picker = selectors.free_times(service=service, start=start, consultant=consultant)
    return {
        "picker": picker,
        "start": start,
        "consultant": consultant,
        "consultants": selectors.choosable_consultants(service),
        "zone": selectors.zone_label(service),
        "today": local_now(service).date(),
    }


@require_http_methods(["GET", "POST"])
def book_time(request: HttpRequest, code: str) -> HttpResponse:
    """Self-booking, step 2: the client picks a time; the request and its booking are made
    together, in one transaction, only now. A repeated submit finds the request it made."""
    service = _service_or_404(request, code)
    if service is None:
        return _not_found(request)
    closed = _unavailable(request, service, anonymous=False, booking=True)
    if closed is not None:
        return closed
    draft = draft_load(request.session, service_id=service.pk)
    if draft is None:
        messages.info(
            request,
            _(
                "Please enter your details: they are kept for two hours only, and nothing was "
                "booked."
            ),
        )
        return _see_other(reverse("portal:book", args=[service.code]))
    if draft.done_token:
        return _see_other(reverse("portal:follow", args=[draft.done_token]))
    error = ""
    conflict = False
    status = 200
    if request.method == "POST":
        created, error, conflict = _book_picked_time(
            request,
            service,
            lambda starts_at, consultant: booking_draft_complete(
                service=service,
                key=draft.key,
                data=draft.data,
                consent=selectors.consent_get(draft.consent_id),
                check_id=draft.check_id,
                starts_at=starts_at,
                consultant=consultant,
            ),
        )
        if not error:
            draft_finish(request.session, draft, token=created.public_token)
            messages.success(request, _("You are booked. The details are below."))
            return _see_other(reverse("portal:follow", args=[created.public_token]))
        status = 409 if conflict else 400
    return _render(
        request,
        "portal/choose.html",
        {
            "req": None,
            "token": "",
            "booking": None,
            "error": error,
            "conflict": conflict,
            "draft": draft,
            **_picker_context(request, service),
        },
        service=service,
        status=status,
        private=True,
    )


# --- the private link -------------------------------------------------------------------------


def _may_book(service_request: ServiceRequest) -> bool:
    """The access policy: the client (this private link) may book, move and cancel the time of
    their own request where the service allows self-booking."""
    return can(ClientActor(request_id=service_request.pk), Action.REQUEST_BOOK, service_request)


def _by_token(token: str) -> ServiceRequest | None:
    try:
        return selectors.request_by_token(token=token)
    except NotFound:
        return None


def received(request: HttpRequest, token: str) -> HttpResponse:
    """The answer page after a request: its code and the private link to follow it."""
    service_request = _by_token(token)
    if service_request is None:
        return _not_found(request)
    link = request.build_absolute_uri(reverse("portal:follow", args=[token]))
    return _render(
        request,
        "portal/received.html",
        {"req": service_request, "link": link},
        service=service_request.service,
        private=True,
    )


def zone_label(service: Any, at: dt.datetime | None = None) -> str:
    """The service's clock after a time ("11:00–12:00 Moscow time"): «по московскому времени»,
    else the UTC offset."""
    name = service.time_zone
    if name == "Europe/Moscow":
        return pgettext("after a time", "Moscow time")
    if name in KAZAKHSTAN_ZONES:
        return pgettext("after a time", "Astana time")
    return utc_offset(service.tz, at)


def _follow_state(req: ServiceRequest, consultation: Any) -> str:
    """What the parent's page says: the request's status, with "held" read from the consultation
    (ended, protocol not yet written) and "failed" for a request back in the queue after a
    technical failure."""
    status = req.status
    if status == ServiceRequest.Status.BOOKED and consultation is not None:
        if consultation.status == "ended":
            return "held"
        if consultation.status == "no_show":
            return "no_show"
    if status == ServiceRequest.Status.NEW and consultation is not None:
        if consultation.status == "failed":
            return "failed"
    return status


def follow(request: HttpRequest, token: str) -> HttpResponse:
    """The private page: where the request is in its lifecycle, in plain words, and what the
    parent can do now — join (only while the room is open), change or cancel (only where the
    service allows self-booking; otherwise the phone to call), book again once it is over."""
    service_request = _by_token(token)
    if service_request is None:
        return _not_found(request)
    service = service_request.service
    booking = selectors.booking_active(request=service_request)
    last = booking or selectors.booking_last(request=service_request)
    consultation = selectors.consultation_of(booking=last) if last else None
    state = _follow_state(service_request, consultation)
    upcoming = booking if state == "booked" else None
    if upcoming is not None and consultation is None:
        # Booked by the staff: the room (and the join link) is made on first need, idempotently.
        consultation = consultation_for_booking(booking=upcoming)
    join_open = (
        upcoming is not None and consultation is not None and link_problem(consultation) is None
    )
    again_url = reverse(
        "portal:book" if service.allows_self_booking else "portal:request", args=[service.code]
    )
    when = last.slot if last is not None else None
    may_book = _may_book(service_request)
    return _render(
        request,
        "portal/follow.html",
        {
            "req": service_request,
            "token": token,
            "state": state,
            "booking": upcoming,
            "last_booking": last,
            "slot": when,
            "zone_label": zone_label(service, when.starts_at if when else None),
            "join_open": join_open,
            "join_url": selectors.join_url(booking=upcoming)
            if join_open and upcoming is not None
            else "",
            "join_opens_at": upcoming.slot.starts_at - JOIN_EARLY if upcoming else None,
            "can_book": may_book and state in ("new", "failed"),
            "can_change": may_book and upcoming is not None,
            "again_url": again_url
            if state in ("done", "held", "cancelled", "no_show", "refused", "redirected")
            else "",
            "link": request.build_absolute_uri(reverse("portal:follow", args=[token])),
            **_contacts_context(service_request),
            "consent_records": consent_records_for_request(request=service_request),
        },
        service=service,
        private=True,
    )


def _contacts_context(service_request: ServiceRequest) -> dict[str, Any]:
    """The new contacts the client gave differ from the card: they may confirm them with a code
    sent to the contact on record. Nothing of the card's contacts is shown, only the channel."""
    via = contact_confirmation_via(service_request)
    if not via or not request_contact_differences(request=service_request):
        return {"contacts_via": ""}
    return {
        "contacts_via": via,
        "contacts_code_sent": contact_confirmation_open(service_request) is not None,
    }


@require_POST
def consent_withdraw(request: HttpRequest, token: str, consent_pk: int) -> HttpResponse:
    """The client withdraws one of their consents on their private page."""
    service_request = _by_token(token)
    if service_request is None:
        return _not_found(request)
    record = next(
        (c for c in consent_records_for_request(request=service_request) if c.pk == consent_pk),
        None,
    )
    if record is None:
        return _not_found(request)
    try:
        intake_consent_withdraw(
            actor=ClientActor(request_id=service_request.pk),
            record=record,
            channel=ConsentChannel.PORTAL,
        )
        messages.success(request, _("Your consent is withdrawn."))
    except DomainError as err:
        messages.error(request, err.message)
    return _see_other(reverse("portal:follow", args=[token]) + "#consents")


@require_POST
def contacts_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Send the code to the contact on record ("send"), or check the code typed ("code")."""
    service_request = _by_token(token)
    if service_request is None:
        return _not_found(request)
    try:
        if "code" in request.POST:
            contact_confirmation_check(request=service_request, code=request.POST.get("code", ""))
            messages.success(request, _("Thank you: we will use your new contact details."))
        else:
            contact_confirmation_send(request=service_request)
            messages.info(request, _("We have sent the code. Enter it below."))
    except DomainError as err:
        messages.error(request, err.message)
    return _see_other(reverse("portal:follow", args=[token]) + "#contacts")


def _parse_date(value: str | None) -> dt.date | None:
    return parse_date_param(value)


def _book_picked_time(
    request: HttpRequest, service: Any, book: Callable[[dt.datetime, Any], Any]
) -> tuple[Any, str, bool]:
    """Hand the time (and, where the service allows it, the consultant) the parent picked to
    `book`: what it returned, or the message to show and whether the time was just taken."""
    starts_at = _parse_when(request.POST.get("time"))
    if starts_at is None:
        return None, _("Choose a time from the list."), False
    consultant = selectors.choosable_consultant_get(service, request.POST.get("consultant"))
    try:
        return book(starts_at, consultant), "", False
    except Conflict as err:
        return None, str(err.message), True
    except DomainError as err:
        return None, str(err.message), False


@require_http_methods(["GET", "POST"])
def choose(request: HttpRequest, token: str) -> HttpResponse:
    """Book a time for a request made earlier (or move the booking): the same time picker."""
    service_request = _by_token(token)
    if service_request is None:
        return _not_found(request)
    service = service_request.service
    booking = selectors.booking_active(request=service_request)
    if not _may_book(service_request) or (
        booking is None and service_request.status != ServiceRequest.Status.NEW
    ):
        return _see_other(reverse("portal:follow", args=[token]))
    error = ""
    conflict = False
    status = 200
    if request.method == "POST":
        _booked, error, conflict = _book_picked_time(
            request,
            service,
            lambda starts_at, consultant: booking_at_time(
                request=service_request,
                starts_at=starts_at,
                consultant=consultant,
                booking=booking,
            ),
        )
        if not error:
            if booking is None:
                messages.success(request, _("You are booked. The details are below."))
            else:
                messages.success(request, _("Your booking is moved. The new time is below."))
            return _see_other(reverse("portal:follow", args=[token]))
        status = 409 if conflict else 400
    return _render(
        request,
        "portal/choose.html",
        {
            "req": service_request,
            "token": token,
            "booking": booking,
            "error": error,
            "conflict": conflict,
            "draft": None,
            **_picker_context(request, service),
        },
        service=service,
        status=status,
        private=True,
    )


@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    """Cancel the booking through the private link (asks once more before it does)."""
    service_request = _by_token(token)
    if service_request is None:
        return _not_found(request)
    service = service_request.service
    booking = selectors.booking_active(request=service_request)
    if booking is None or not _may_book(service_request):
        return _see_other(reverse("portal:follow", args=[token]))
    consultation = selectors.consultation_of(booking=booking)
    if _follow_state(service_request, consultation) != ServiceRequest.Status.BOOKED:
        # Held (or failed) already: there is nothing left to cancel.
        return _see_other(reverse("portal:follow", args=[token]))
    error = ""
    if request.method == "POST":
        try:
            scheduling.booking_cancel(
                actor=ClientActor(request_id=service_request.pk),
                booking=booking,
                reason=_("Cancelled by the client on the portal"),
            )
        except DomainError as err:
            error = str(err.message)
        else:
            messages.success(request, _("Your booking is cancelled."))
            return _see_other(reverse("portal:follow", args=[token]))
    return _render(
        request,
        "portal/cancel.html",
        {"req": service_request, "token": token, "booking": booking, "error": error},
        service=service,
        status=400 if error else 200,
        private=True,
    )


def ics(request: HttpRequest, token: str) -> HttpResponse:
    """The active booking as an .ics file for the client's calendar."""
    service_request = _by_token(token)
    booking = selectors.booking_active(request=service_request) if service_request else None
    if service_request is None or booking is None:
        return _not_found(request)
    body = booking_ics(booking, join_url=selectors.join_url(booking=booking))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="consultation-{service_request.public_code}.ics"'
    )
    response["Cache-Control"] = "no-store"
    return response
