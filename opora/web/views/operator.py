"""The operator console: find the caller, check IIN and name, register the request, book a slot
(regulation 000 §8–§10, regulation 001 §3–§8)."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from opora.accounts.models import User
from opora.accounts.policy import Action
from opora.core.errors import Conflict, DomainError
from opora.intake import consents
from opora.intake import selectors as intake_selectors
from opora.intake import services as intake_services
from opora.intake.models import Client, ConsentChannel, Referral, RefusalGround, ServiceRequest
from opora.registry import services as registry_services
from opora.registry.iin import IINError
from opora.registry.models import EligibilityCheck
from opora.registry.scripts import eligibility_script
from opora.scheduling import selectors as scheduling_selectors
from opora.scheduling import services as scheduling_services
from opora.scheduling.calendar import local_now, to_local
from opora.scheduling.models import Booking
from opora.scheduling.scripts import booking_confirmation_script
from opora.web.decorators import role_required
from opora.web.forms import (
    CancelForm,
    CheckForm,
    CountWithForm,
    QueueFilterForm,
    RedirectForm,
    ReferralSearchForm,
    ReferralSendForm,
    RefuseForm,
    RequestForm,
    RequestTopicForm,
    SlotFilterForm,
)
from opora.web.selectors import (
    eligibility_check_get,
    queue_rows,
    request_service_get,
    service_consultant_get,
    service_request_find,
    slot_get,
    staff_request_queue,
)
from opora.web.views.common import (
    HtmxStaffRequest,
    attach_error,
    go,
    list_services,
    lookup_error,
    page,
)

SEARCH_MIN_CHARS = 3
# Which form field a service's DomainError is about, by its code.
REQUEST_FIELDS = {
    "invalid_phone": "phone",
    "invalid_iin": "iin",
    "iin_required": "iin",
    "full_name_required": "full_name",
    "full_name_incomplete": "full_name",
    "full_name_too_long": "full_name",
    "invalid_email": "email",
}
REFUSAL_FIELDS = {
    "invalid_ground": "ground",
    "referral_required": "note",
}
REDIRECT_FIELDS = {"referral_required": "referral_text"}
BOOKABLE = {ServiceRequest.Status.NEW, ServiceRequest.Status.BOOKED}


def _console_context(request: HtmxStaffRequest, **extra: Any) -> dict[str, Any]:
    service = request.service
    ctx: dict[str, Any] = {
        "nav": "operator",
        "local_now": local_now(service),
        "check_form": CheckForm(),
        "q": "",
    }
    if not service.requires_eligibility:
        ctx["request_form"] = RequestForm(service=service)
    ctx.update(extra)
    return ctx


@role_required(Action.REQUEST_QUEUE)
def console(request: HtmxStaffRequest) -> HttpResponse:
    return page(request, "web/operator/console.html", _console_context(request))


@role_required(Action.REQUEST_QUEUE)
@require_POST
def client_search(request: HtmxStaffRequest) -> HttpResponse:
    """Search as you type. POST, so an IIN or a phone never lands in a URL or an access log."""
    q = request.POST.get("q", "").strip()
    clients = None
    if len(q) >= SEARCH_MIN_CHARS:
        clients = intake_selectors.client_search(actor=request.user, query=q, limit=20)
    ctx = {"q": q, "clients": clients, "min_chars": SEARCH_MIN_CHARS}
    if request.htmx:
        return page(request, "web/operator/_client_results.html", ctx)
    return page(request, "web/operator/console.html", _console_context(request, **ctx))


def _client_for_iin(actor: User, iin: str) -> Client | None:
    """A known client with exactly this IIN, to prefill phones and region."""
    for client in intake_selectors.client_search(actor=actor, query=iin, limit=5):
        if client.iin == iin:
            return client
    return None


# Regulation 001 §3.3: the grounds a negative check refuses on. A name that does not match is not
# a ground yet: the caller may have spelt it differently, so nothing is pre-selected.
_REASON_GROUND: dict[str, RefusalGround] = {
    EligibilityCheck.Reason.NOT_REGISTERED: RefusalGround.NOT_REGISTERED,
    EligibilityCheck.Reason.INACTIVE: RefusalGround.NOT_REGISTERED,
    EligibilityCheck.Reason.DISABILITY_EXPIRED: RefusalGround.NOT_REGISTERED,
}


def verdict_title(result: Any) -> str:
    """The headline of a check's answer: eligible, or which of "not found", "inactive", "expired"
    and "name does not match" it is (the last asks to check the spelling, not to refuse)."""
    reason = result.check.reason
    if result.eligible:
        return _("Eligible: register the request")
    if reason == EligibilityCheck.Reason.NAME_MISMATCH:
        return _("The full name does not match the ЦБД data: check the spelling")
    if reason == EligibilityCheck.Reason.INACTIVE:
        return _("Cannot book: no active benefit recipient is registered in ЦБД under this IIN")
    if reason == EligibilityCheck.Reason.DISABILITY_EXPIRED:
        return _("Cannot book: the child's disability in ЦБДИ has expired")
    return _(
        "Cannot book: no benefit recipient raising a disabled child and no disabled child is "
        "registered under this IIN"
    )


def _refuse_form_for(check_obj: EligibilityCheck) -> RefuseForm:
    ground = _REASON_GROUND.get(check_obj.reason)
    return RefuseForm(initial={"ground": ground} if ground else None)


@role_required(Action.REQUEST_QUEUE)
@require_POST
def check(request: HtmxStaffRequest) -> HttpResponse:
    """Regulation 001 §3.2–3.4: look the IIN and full name up; show the answer to read."""
    service = request.service
    ctx: dict[str, Any] = {}
    if request.POST.get("prefill"):
        # "Check this client" from the search results: fill the form, the operator still asks.
        form = CheckForm(
            initial={
                "iin": request.POST.get("iin", ""),
                "full_name": request.POST.get("full_name", ""),
            }
        )
        ctx["focus_check"] = True
    else:
        form = CheckForm(request.POST)
        if form.is_valid():
            iin, full_name = form.cleaned_data["iin"], form.cleaned_data["full_name"]
            try:
                result = registry_services.eligibility_check(
                    actor=request.user, service=service, iin=iin, full_name=full_name
                )
            except IINError as err:
                form.add_error("iin", err.message)
            except DomainError as err:
                form.add_error(None, err.message)
            else:
                ctx["result"] = result
                ctx["verdict"] = verdict_title(result)
                if result.eligible:
                    initial = {"full_name": full_name, "iin": iin, "check_id": result.check.pk}
                    client = _client_for_iin(request.user, iin)
                    if client is not None:
                        initial.update(
                            phone=client.phone,
                            phone_extra=client.phone_extra,
                            email=client.email,
                            region=client.region_id,
                        )
                    ctx["request_form"] = RequestForm(service=service, initial=initial)
                else:
                    ctx["refuse_form"] = _refuse_form_for(result.check)
                    ctx["redirect_form"] = RedirectForm()
    ctx["check_form"] = form
    if request.htmx:
        return page(request, "web/operator/_check_area.html", ctx)
    return page(request, "web/operator/console.html", _console_context(request, **ctx))


@role_required(Action.REQUEST_QUEUE)
@require_POST
def request_new(request: HtmxStaffRequest) -> HttpResponse:
    """Regulation 001 §6: register the request, then go on to booking."""
    service = request.service
    form = RequestForm(request.POST, service=service)
    if form.is_valid():
        data = form.cleaned_data
        check_obj = None
        if data.get("check_id"):
            check_obj = eligibility_check_get(
                actor=request.user, service=service, pk=data["check_id"]
            )
        try:
            service_request = intake_services.request_create(
                actor=request.user,
                service=service,
                full_name=data["full_name"],
                iin=data["iin"],
                phone=data["phone"],
                phone_extra=data["phone_extra"],
                email=data["email"],
                region=data["region"],
                desired_at=form.desired_at,
                reason=data["reason"],
                # A walk-in (issue 12) is registered in person and helped at once.
                channel="in_person" if request.POST.get("walk_in") else "phone",
                eligibility_check=check_obj,
                # The operator types what the caller says, over the card's pre-filled contacts.
                update_client_contacts=True,
                # Issue 12: anonymous where the service allows it; topic and language for the
                # competent consultants.
                is_anonymous=bool(data.get("is_anonymous")),
                special_consent=bool(data.get("special_consent")),
                topic=data.get("topic") or "",
                language=data.get("language") or "",
            )
        except IINError as err:
            form.add_error("iin", err.message)
        except DomainError as err:
            attach_error(form, err, REQUEST_FIELDS)
        else:
            if request.POST.get("walk_in"):  # issue 12: a walk-in is helped now
                return go(request, reverse("consultations:start_now", args=[service_request.pk]))
            messages.success(request, _("The request is registered. Now choose the time."))
            return go(request, reverse("operator_book", args=[service_request.pk]))
    ctx: dict[str, Any] = {"request_form": form}
    if request.htmx:
        return page(request, "web/operator/_request_form.html", ctx)
    ctx["check_form"] = CheckForm(
        initial={"iin": request.POST.get("iin", ""), "full_name": request.POST.get("full_name", "")}
    )
    return page(request, "web/operator/console.html", _console_context(request, **ctx))


# --- one request ---------------------------------------------------------------------------------


def _get_request(request: HtmxStaffRequest, pk: int) -> ServiceRequest:
    return intake_selectors.request_get(actor=request.user, pk=pk)


def _bookings(service_request: ServiceRequest) -> list[Booking]:
    return list(scheduling_selectors.bookings_for_request(request=service_request))


def _held(booking: Booking | None) -> Any:
    """The ended consultation of `booking` (held, the protocol may still be coming), or None."""
    consultation = getattr(booking, "consultation", None) if booking is not None else None
    if consultation is not None and consultation.status == "ended":
        return consultation
    return None


def _active(bookings: list[Booking], service_request: ServiceRequest) -> Booking | None:
    """The booking still to come: a done or no-show request keeps its booking as the record of
    what was held, and a held one awaits its protocol — neither is changed or cancelled."""
    active = next((b for b in bookings if b.status == Booking.Status.ACTIVE), None)
    if active is not None and service_request.status in intake_services.FINISHED:
        return None
    if _held(active) is not None:
        return None
    return active


def _referral_search(request: HtmxStaffRequest) -> tuple[ReferralSearchForm, list[Referral] | None]:
    """The directory search on the request page (GET ref-q, ref-region); None until searched."""
    service = request.service
    params = request.GET if "ref-q" in request.GET or "ref-region" in request.GET else None
    form = ReferralSearchForm(params, service=service, prefix="ref")
    if params is None or not form.is_valid():
        return form, None
    found = intake_selectors.referral_search(
        actor=request.user,
        query=form.cleaned_data["q"],
        country=service.country,
        region=form.cleaned_data["region"],
    )
    return form, found


def _request_page(
    request: HtmxStaffRequest, service_request: ServiceRequest, status: int = 200, **extra: Any
) -> HttpResponse:
    bookings = _bookings(service_request)
    search_form, referrals = _referral_search(request)
    ctx = {
        "nav": "operator",
        "req": service_request,
        "bookings": bookings,
        "active": _active(bookings, service_request),
        # A cancelled, closed or no-show request: the same client again, as a new request.
        "can_again": service_request.status in intake_services.FINISHED,
        "held": _held(next((b for b in bookings if b.status == Booking.Status.ACTIVE), None)),
        "can_book": service_request.status in BOOKABLE
        and not (
            service_request.service.requires_eligibility
            and service_request.eligibility_check_id is None
            and not service_request.iin
        ),
        "refuse_form": RefuseForm(),
        "redirect_form": RedirectForm(),
        "referral_search_form": search_form,
        "referrals": referrals,
        "send_form": ReferralSendForm(),
        "count_form": CountWithForm(),
        # Issue 12: the topic class of a letter or a message, set here.
        "topic_form": RequestTopicForm(
            initial={"topic": service_request.topic, "language": service_request.language},
            auto_id="topic_%s",
        ),
        "counted_together": list(
            service_request.counted_together.order_by("created_at", "pk").only("pk", "created_at")
        ),
        "open_referral": referrals is not None,
        # A letter or a message to a service with the registry check: the IIN is checked here.
        "needs_check": service_request.service.requires_eligibility
        and service_request.eligibility_check_id is None
        and not service_request.iin
        and service_request.status == ServiceRequest.Status.NEW,
        "deferred_check_form": CheckForm(prefix="deferred"),
        # Contacts given with this request that the client's card holds otherwise: they stay on
        # the request (notices go there) until staff copy them to the card.
        "contact_differences": intake_selectors.request_contact_differences(
            request=service_request
        ),
        "consent_records": consents.consent_records_for_request(request=service_request),
        "consent_channels": ConsentChannel.choices,
    }
    ctx.update(extra)
    return page(request, "web/operator/request_detail.html", ctx, status=status)


@role_required(Action.REQUEST_QUEUE, service_from=request_service_get)
def request_detail(request: HtmxStaffRequest, pk: int) -> HttpResponse:
    try:
        # The page shows the client's personal data: the selector records the read.
        service_request = intake_selectors.request_get_for_view(
            actor=request.user, pk=pk, via="web"
        )
    except DomainError as err:
        return lookup_error(request, err)
    return _request_page(request, service_request)


def _request_form_action(
    request: HtmxStaffRequest,
    pk: int,
    form: Any,
    *,
    act: Callable[[ServiceRequest, dict[str, Any]], Any],
    error_fields: dict[str, Any],
    success: str,
    **page_extra: Any,
) -> HttpResponse:
    """The shape of a form on the request page: validate, call the service, say what happened
    and go back to the request — or show the page again with the form and what to fix."""
    try:
        service_request = _get_request(request, pk)
    except DomainError as err:
        return lookup_error(request, err)
    if form.is_valid():
        try:
            act(service_request, form.cleaned_data)
        except DomainError as err:
            attach_error(form, err, error_fields)
        else:
            messages.success(request, success)
            return go(request, reverse("operator_request", args=[pk]))
    return _request_page(request, service_request, **page_extra)


@role_required(Action.REQUEST_QUEUE, service_from=request_service_get)
@require_POST
def request_check(request: HtmxStaffRequest, pk: int) -> HttpResponse:
    """Regulation 001 §3.2–3.4 for a request registered before its check (e-mail, messenger)."""
    form = CheckForm(request.POST, prefix="deferred")
    return _request_form_action(
        request,
        pk,
        form,
        act=lambda req, data: intake_services.request_check_eligibility(
            actor=request.user, request=req, iin=data["iin"], full_name=data["full_name"]
        ),
        error_fields={**REQUEST_FIELDS, "ineligible": None},
        success=_("The registry check is positive: the request may be booked."),
        deferred_check_form=form,
    )


@role_required(Action.REQUEST_QUEUE, service_from=request_service_get)
@require_POST
def consent_withdraw(request: HtmxStaffRequest, pk: int, consent_pk: int) -> HttpResponse:
    """Withdraw one of the request's consents on the client's word (phone, letter, in person)."""
    try:
        service_request = _get_request(request, pk)
        record = next(
            c
            for c in consents.consent_records_for_request(request=service_request)
            if c.pk == consent_pk
        )
    except DomainError as err:
        return lookup_error(request, err)
    except StopIteration:
        raise Http404(_("No such consent.")) from None
    try:
        consents.consent_withdraw(
            actor=request.user, record=record, channel=request.POST.get("channel", "")
        )
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _("The consent is withdrawn; what it covered has stopped."))
    return go(request, reverse("operator_request", args=[pk]) + "#consents")


@role_required(Action.REQUEST_QUEUE, service_from=request_service_get)
@require_POST
def request_card_update(request: HtmxStaffRequest, pk: int) -> HttpResponse:
    """«Update the card»: the contacts given with this request become the client's own."""
    try:
        service_request = _get_request(request, pk)
    except DomainError as err:
        return lookup_error(request, err)
    try:
        changed = intake_services.client_contacts_update_from_request(
            actor=request.user, request=service_request
        )
    except DomainError as err:
        messages.error(request, err.message)
    else:
        if changed:
            messages.success(request, _("The client's card now has the contacts of this request."))
        else:
            messages.info(request, _("The client's card already has these contacts."))
    return go(request, reverse("operator_request", args=[pk]))


@role_required(Action.REQUEST_QUEUE, service_from=request_service_get)
@require_POST
def request_refuse(request: HtmxStaffRequest, pk: int) -> HttpResponse:
    """Regulation 000 §9: refuse with a ground, politely; the refusal is recorded."""
    form = RefuseForm(request.POST)
    return _request_form_action(
        request,
        pk,
        form,
        act=lambda req, data: intake_services.request_refuse(
            actor=request.user, request=req, ground=data["ground"], note=data["note"]
        ),
        error_fields=REFUSAL_FIELDS,
        success=_("The refusal is recorded."),
        refuse_form=form,
        open_refuse=True,
    )


@role_required(Action.REQUEST_QUEUE, service_from=request_service_get)
@require_POST
def request_redirect(request: HtmxStaffRequest, pk: int) -> HttpResponse:
    """Regulation 000 §10: the question is not ours — tell whom to ask, and record it."""
    form = RedirectForm(request.POST)
    return _request_form_action(
        request,
        pk,
        form,
        act=lambda req, data: intake_services.request_redirect(
            actor=request.user, request=req, referral_text=data["referral_text"]
        ),
        error_fields=REDIRECT_FIELDS,
        success=_("The referral is recorded."),
        redirect_form=form,
        open_redirect=True,
    )


@role_required(Action.REQUEST_QUEUE, service_from=request_service_get)
@require_http_methods(["GET", "POST"])
def request_book(request: HtmxStaffRequest, pk: int) -> HttpResponse:
    """Book (or move) a request's slot: the nearest free time first, or a chosen day's free times,
    never earlier than the nearest (regulation 001 §5)."""
    service = request.service
    try:
        service_request = _get_request(request, pk)
    except DomainError as err:
        return lookup_error(request, err)
    active = _active(_bookings(service_request), service_request)
    error = conflict = ""
    status = 200
    params = request.POST if request.method == "POST" else request.GET

    if request.method == "POST":
        slot = slot_get(service=service, pk=request.POST.get("slot"))
        if slot is None:
            error = _("Choose a time from the list.")
            status = 400
        else:
            try:
                if active is not None:
                    scheduling_services.booking_reschedule(
                        actor=request.user, booking=active, slot=slot
                    )
                else:
                    scheduling_services.booking_create(
                        actor=request.user, request=service_request, slot=slot
                    )
            except Conflict as err:
                conflict = str(err.message)
                status = 409
            except DomainError as err:
                error = str(err.message)
                status = 400
            else:
                return go(request, reverse("operator_confirmation", args=[pk]))

    filter_form = SlotFilterForm(params, service=service)
    filter_form.is_valid()
    data = getattr(filter_form, "cleaned_data", {})
    consultant = service_consultant_get(service=service, pk=data.get("consultant"))
    specialty = data.get("specialty") or ""
    nearest = scheduling_selectors.slot_nearest_free(
        service=service, consultant=consultant, specialty=specialty
    )
    ctx: dict[str, Any] = {
        "nav": "operator",
        "req": service_request,
        "active": active,
        "can_book": service_request.status in BOOKABLE
        and not (
            service_request.service.requires_eligibility
            and service_request.eligibility_check_id is None
            and not service_request.iin
        ),
        "nearest": nearest,
        "filter_form": filter_form,
        "consultant": consultant,
        "specialty": specialty,
        "error": error,
        "conflict": conflict,
        "grid": None,
        "local_now": local_now(service),
    }
    if nearest is not None:
        nearest_date = to_local(service, nearest.starts_at).date()
        chosen = data.get("date") or nearest_date
        if chosen < nearest_date:
            ctx["too_early"] = chosen
            chosen = nearest_date
        # A day x consultant grid of the chosen day: rows are consultants (with their
        # specialty), columns the times; the nearest free slot is marked.
        ctx["grid"] = scheduling_selectors.slot_grid(
            service=service,
            date=chosen,
            consultant=consultant,
            specialty=specialty,
            # Issue 12: the consultants competent for the request's topic and language first.
            topic=service_request.topic,
            language=service_request.language,
        )
        ctx["chosen_date"] = chosen
        ctx["nearest_date"] = nearest_date
        ctx["filter_query"] = _grid_query(consultant=consultant, specialty=specialty)
    if request.htmx and request.method == "GET":
        return page(request, "web/operator/_slots.html", ctx)
    return page(request, "web/operator/book.html", ctx, status=status)


def _grid_query(*, consultant: Any, specialty: str) -> str:
    """The grid's filters as a query string, for the day arrows."""
    params = {"specialty": specialty, "consultant": consultant.pk if consultant else ""}
    return urlencode({k: v for k, v in params.items() if v})


@role_required(Action.REQUEST_QUEUE, service_from=request_service_get)
def request_confirmation(request: HtmxStaffRequest, pk: int) -> HttpResponse:
    """Regulation 001 §5: what to tell the caller — date, time, how to join, how to change."""
    try:
        service_request = _get_request(request, pk)
    except DomainError as err:
        return lookup_error(request, err)
    active = _active(_bookings(service_request), service_request)
    if active is None:
        return redirect("operator_request", pk=pk)
    ctx = {
        "nav": "operator",
        "req": service_request,
        "booking": active,
        "script": booking_confirmation_script(active),
    }
    return page(request, "web/operator/confirmation.html", ctx)


@role_required(Action.REQUEST_QUEUE, service_from=request_service_get)
@require_http_methods(["GET", "POST"])
def request_cancel(request: HtmxStaffRequest, pk: int) -> HttpResponse:
    """Cancel the active booking: ask for the reason and a confirmation first."""
    try:
        service_request = _get_request(request, pk)
    except DomainError as err:
        return lookup_error(request, err)
    active = _active(_bookings(service_request), service_request)
    if active is None:
        messages.info(request, _("This request has no active booking."))
        return redirect("operator_request", pk=pk)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            scheduling_services.booking_cancel(
                actor=request.user, booking=active, reason=form.cleaned_data["reason"]
            )
        except DomainError as err:
            form.add_error(None, err.message)
        else:
            messages.success(request, _("The booking is cancelled. Tell the caller."))
            return go(request, reverse("operator_request", args=[pk]))
    ctx = {"nav": "operator", "req": service_request, "booking": active, "form": form}
    return page(request, "web/operator/cancel.html", ctx, status=400 if form.errors else 200)


@role_required(Action.REQUEST_QUEUE)
@require_POST
def request_again(request: HtmxStaffRequest, pk: int) -> HttpResponse:
    """«Новая заявка для этого клиента» / «Записать снова» from a finished request: a new request
    with the client's data (`intake.services.request_create_from`), then its page or its booking."""
    try:
        service_request = _get_request(request, pk)
    except DomainError as err:
        return lookup_error(request, err)
    book = request.POST.get("book") == "1"
    try:
        created = intake_services.request_create_from(actor=request.user, source=service_request)
    except DomainError as err:
        messages.error(request, str(err.message))
        return go(request, reverse("operator_request", args=[pk]))
    if book:
        messages.success(
            request,
            _("New request No. %(num)s is registered for this client. Now choose the time.")
            % {"num": created.pk},
        )
        return go(request, reverse("operator_book", args=[created.pk]))
    messages.success(
        request,
        _("New request No. %(num)s is registered for this client.") % {"num": created.pk},
    )
    return go(request, reverse("operator_request", args=[created.pk]))


# --- refusal right after a negative check --------------------------------------------------------
# Regulation 001 §3.3: the refusal is stored as a refused request, so the journal counts it.


def _negative_result(check_obj: EligibilityCheck) -> SimpleNamespace:
    """The check's verdict again, to show beside a refusal form that has errors."""
    return SimpleNamespace(
        eligible=check_obj.eligible,
        reason=check_obj.reason,
        message=eligibility_script(check_obj.reason),
        check=check_obj,
    )


def _check_refusal(
    request: HtmxStaffRequest, form: RefuseForm | RedirectForm, *, ground: str, note: str = ""
) -> HttpResponse:
    service = request.service
    check_obj = eligibility_check_get(
        actor=request.user, service=service, pk=request.POST.get("check_id")
    )
    if check_obj is None:
        messages.error(request, _("The check was not found; run it again."))
        return go(request, reverse("operator_console"))
    if form.is_valid():
        referral_text = form.cleaned_data.get("referral_text", "")
        try:
            intake_services.request_refuse_check(
                actor=request.user,
                service=service,
                eligibility_check=check_obj,
                ground=form.cleaned_data.get("ground", ground),
                note=form.cleaned_data.get("note", note),
                referral_text=referral_text,
            )
        except DomainError as err:
            attach_error(
                form, err, REFUSAL_FIELDS if isinstance(form, RefuseForm) else REDIRECT_FIELDS
            )
        else:
            done = (
                _("The referral is recorded.") if referral_text else _("The refusal is recorded.")
            )
            messages.success(request, done)
            return go(request, reverse("operator_console"))
    result = _negative_result(check_obj)
    ctx = {
        "check_form": CheckForm(initial={"iin": check_obj.iin, "full_name": check_obj.full_name}),
        "result": result,
        "verdict": verdict_title(result),
        "refuse_form": form if isinstance(form, RefuseForm) else _refuse_form_for(check_obj),
        "redirect_form": form if isinstance(form, RedirectForm) else RedirectForm(),
    }
    return page(request, "web/operator/console.html", _console_context(request, **ctx), status=400)


@role_required(Action.REQUEST_QUEUE)
@require_POST
def refuse_check(request: HtmxStaffRequest) -> HttpResponse:
    return _check_refusal(request, RefuseForm(request.POST), ground="")


@role_required(Action.REQUEST_QUEUE)
@require_POST
def redirect_check(request: HtmxStaffRequest) -> HttpResponse:
    return _check_refusal(
        request, RedirectForm(request.POST), ground=RefusalGround.OUT_OF_COMPETENCE
    )


# --- the queue: every new request from every channel ----------------------------------------------


@role_required(Action.REQUEST_QUEUE)
def queue(request: HtmxStaffRequest) -> HttpResponse:
    """Every request waiting, from every channel, oldest first (issue "nothing lost").

    htmx refreshes the list every 30 seconds (`partial=1`): the count is live.
    """
    service = request.service
    services, all_services = list_services(request)
    filtered = "status" in request.GET or "channel" in request.GET  # not just ?scope=
    form = QueueFilterForm(request.GET if filtered else None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    status = data.get("status", "") if form.is_bound else ServiceRequest.Status.NEW
    requests = staff_request_queue(
        actor=request.user, services=services, channel=data.get("channel", ""), status=status
    )
    if not form.is_bound:
        form = QueueFilterForm(initial={"status": ServiceRequest.Status.NEW})
    ctx = {
        "nav": "queue",
        "filter_form": form,
        "rows": queue_rows(service=service, requests=requests),
        "status_filter": status,
        "all_services": all_services,
        "local_now": local_now(service),
        "refresh_query": _refresh_query(request, status),
    }
    if request.htmx and request.GET.get("partial"):
        return page(request, "web/operator/_queue_list.html", ctx)
    return page(request, "web/operator/queue.html", ctx)


def _refresh_query(request: HtmxStaffRequest, status: str) -> str:
    q = request.GET.copy()
    q["status"] = status
    q["partial"] = "1"
    return q.urlencode()


# --- dispatcher consulting and counting, from the request page -----------------------------------

REFERRAL_SEND_FIELDS = {"invalid_via": "via", "referral_inactive": "referral"}


@role_required(Action.REQUEST_QUEUE, service_from=request_service_get)
@require_POST
def request_referral_send(request: HtmxStaffRequest, pk: int) -> HttpResponse:
    """Send a directory entry to the client (regulation 000 §10, dispatcher consulting of 004)."""
    try:
        service_request = _get_request(request, pk)
    except DomainError as err:
        return lookup_error(request, err)
    form = ReferralSendForm(request.POST)
    if form.is_valid():
        try:
            referral = intake_selectors.referral_get(
                actor=request.user, pk=form.cleaned_data["referral"]
            )
            done = intake_services.referral_send(
                actor=request.user,
                request=service_request,
                referral=referral,
                via=form.cleaned_data["via"],
            )
        except DomainError as err:
            attach_error(form, err, REFERRAL_SEND_FIELDS)
        else:
            if done.notified:
                messages.success(request, _("The referral is sent to the client and recorded."))
            else:
                messages.warning(
                    request,
                    _(
                        "The referral is recorded, but no message was sent: tell the client "
                        "yourself."
                    ),
                )
            return go(request, reverse("operator_request", args=[pk]))
    else:
        form.add_error(None, _("Choose an organisation from the directory."))
    # Offer the directory again, so the choice can be made on the same page.
    referrals = intake_selectors.referral_search(
        actor=request.user, country=service_request.service.country
    )
    return _request_page(
        request,
        service_request,
        status=400,
        send_form=form,
        referrals=referrals,
        open_referral=True,
    )


@role_required(Action.REQUEST_QUEUE, service_from=request_service_get)
@require_POST
def request_count_with(request: HtmxStaffRequest, pk: int) -> HttpResponse:
    """Regulation 004: both parents on one question — the two requests count as one service."""
    try:
        service_request = _get_request(request, pk)
    except DomainError as err:
        return lookup_error(request, err)
    form = CountWithForm(request.POST)
    if form.is_valid():
        other = service_request_find(
            service=service_request.service, value=form.cleaned_data["other"]
        )
        if other is None:
            form.add_error("other", _("No request of this service has that number or code."))
        else:
            try:
                root = intake_services.request_count_with(
                    actor=request.user, request=service_request, other=other
                )
            except DomainError as err:
                form.add_error("other", err.message)
            else:
                messages.success(
                    request,
                    _("The requests are counted as one service (request No. %(num)s).")
                    % {"num": root.pk},
                )
                return go(request, reverse("operator_request", args=[pk]))
    return _request_page(request, service_request, status=400, count_form=form, open_count=True)


@role_required(Action.REQUEST_QUEUE, service_from=request_service_get)
@require_POST
def request_count_separately(request: HtmxStaffRequest, pk: int) -> HttpResponse:
    try:
        service_request = _get_request(request, pk)
    except DomainError as err:
        return lookup_error(request, err)
    try:
        intake_services.request_count_separately(actor=request.user, request=service_request)
    except DomainError as err:
        messages.error(request, str(err.message))
    else:
        messages.success(request, _("The request counts as a service of its own again."))
    return go(request, reverse("operator_request", args=[pk]))
