"""Marks the staff put on a request (issue 12): its topic class (regulation 002), for a letter or
a messenger conversation that came without one; and that the child needs direct help
(regulation 004) — the scripted explanation and a referral go to the client."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from opora.accounts.policy import Action, can
from opora.accounts.workplace import StaffRequest
from opora.core.errors import DomainError, NotFound
from opora.intake import selectors as intake_selectors
from opora.intake import services as intake_services
from opora.intake.child_help import child_help_refer, child_help_script
from opora.intake.models import ChildHelpReferral, Referral, ServiceRequest
from opora.web.decorators import role_required
from opora.web.forms import ChildHelpForm, RequestTopicForm
from opora.web.selectors import request_service_get
from opora.web.views.common import attach_error, go, lookup_error, page


@role_required(Action.REQUEST_SET_TOPIC, service_from=request_service_get)
@require_POST
def request_set_topic(request: StaffRequest, pk: int) -> HttpResponse:
    try:
        service_request = intake_selectors.request_get(actor=request.user, pk=pk)
    except DomainError as err:
        return lookup_error(request, err)
    form = RequestTopicForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return go(request, reverse("operator_request", args=[pk]) + "#topic-panel")
    try:
        intake_services.request_set_topic(
            actor=request.user,
            request=service_request,
            topic=form.cleaned_data["topic"],
            language=form.cleaned_data["language"] or None,
        )
    except DomainError as err:
        messages.error(request, str(err.message))
    else:
        messages.success(request, _("The topic of the request is saved."))
    return go(request, reverse("operator_request", args=[pk]))


def _child_help_request(request: StaffRequest, pk: int) -> ServiceRequest:
    """The request, for intake staff; for a consultant, only a request they hold a consultation
    of (they reach this page from its protocol)."""
    if can(request.user, Action.REQUEST_VIEW):
        return intake_selectors.request_get(actor=request.user, pk=pk)
    found = (
        ServiceRequest.objects.select_related("service")
        .filter(pk=pk, service=request.service, bookings__slot__consultant=request.user)
        .first()
    )
    if found is None:
        raise NotFound(_("Request not found."))
    return found


@role_required(Action.REQUEST_CHILD_HELP, service_from=request_service_get)
@require_http_methods(["GET", "POST"])
def request_child_help(request: StaffRequest, pk: int) -> HttpResponse:
    """The request needs help for the child directly (regulation 004): choose the organisations
    of the directory; the client gets the scripted explanation and their contacts. Reached from
    the request page (marked on the request) and from the protocol (`?from=protocol`)."""
    try:
        service_request = _child_help_request(request, pk)
    except DomainError as err:
        return lookup_error(request, err)
    source = (
        ChildHelpReferral.Source.PROTOCOL
        if (request.POST or request.GET).get("from") == "protocol"
        else ChildHelpReferral.Source.REQUEST
    )
    back = (request.POST or request.GET).get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    existing = ChildHelpReferral.objects.filter(request=service_request).first()
    referrals = intake_selectors.referral_search(
        actor=request.user, country=service_request.service.country, limit=200
    )
    form = ChildHelpForm(request.POST if request.method == "POST" else None, referrals=referrals)
    if request.method == "POST" and form.is_valid():
        try:
            child_help_refer(
                actor=request.user,
                request=service_request,
                organisations=list(
                    Referral.objects.filter(pk__in=form.cleaned_data["organisations"])
                ),
                source=source,
                note=form.cleaned_data["note"],
            )
        except DomainError as err:
            if err.http_status == 403:
                return lookup_error(request, err)
            attach_error(form, err, {"organisations": "organisations", "note": "note"})
        else:
            messages.success(
                request, _("The explanation and the referral are recorded and sent to the client.")
            )
            return go(request, back or reverse("operator_request", args=[pk]))
    ctx = {
        "nav": "operator",
        "req": service_request,
        "form": form,
        "existing": existing,
        "script": child_help_script(),
        "source": source,
        "back": back,
    }
    return page(request, "web/operator/child_help.html", ctx, status=400 if form.errors else 200)
