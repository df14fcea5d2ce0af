"""The referral directory (regulation 000 §10; dispatcher consulting of regulation 004): everyone
who handles requests searches it; the head keeps it up to date."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from opora.accounts.actors import Subject
from opora.accounts.policy import Action, can
from opora.accounts.workplace import StaffRequest
from opora.core.errors import DomainError
from opora.intake import selectors as intake_selectors
from opora.intake import services as intake_services
from opora.intake.models import Referral
from opora.web.decorators import role_required
from opora.web.forms import ReferralForm, ReferralSearchForm
from opora.web.views.common import go, lookup_error, page


def _may_edit(user: Subject) -> bool:
    return can(user, Action.REFERRAL_EDIT)


@role_required(Action.REFERRAL_READ)
def referral_list(request: StaffRequest) -> HttpResponse:
    """Search by topic words and region; withdrawn entries only for the head."""
    service = request.service
    form = ReferralSearchForm(request.GET or None, service=service)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    editor = _may_edit(request.user)
    referrals = intake_selectors.referral_search(
        actor=request.user,
        query=data.get("q", ""),
        country=service.country,
        region=data.get("region"),
        include_inactive=editor,
        limit=200,
    )
    ctx = {"nav": "referrals", "form": form, "referrals": referrals, "may_edit": editor}
    return page(request, "web/referrals/list.html", ctx)


def _edit(request: StaffRequest, referral: Referral | None) -> HttpResponse:
    initial = {"country": request.service.country} if referral is None else None
    form = ReferralForm(request.POST or None, instance=referral, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in intake_services.REFERRAL_FIELDS}
        try:
            if referral is None:
                intake_services.referral_create(actor=request.user, **data)
            else:
                intake_services.referral_update(actor=request.user, referral=referral, **data)
        except DomainError as err:
            form.add_error(None, err.message)
        else:
            messages.success(request, _("The referral directory is updated."))
            return go(request, reverse("referral_list"))
    ctx = {"nav": "referrals", "form": form, "referral": referral}
    return page(request, "web/referrals/edit.html", ctx, status=400 if form.errors else 200)


@role_required(Action.REFERRAL_EDIT)
@require_http_methods(["GET", "POST"])
def referral_new(request: StaffRequest) -> HttpResponse:
    return _edit(request, None)


@role_required(Action.REFERRAL_EDIT)
@require_http_methods(["GET", "POST"])
def referral_edit(request: StaffRequest, pk: int) -> HttpResponse:
    try:
        referral = intake_selectors.referral_get(actor=request.user, pk=pk)
    except DomainError as err:
        return lookup_error(request, err)
    return _edit(request, referral)
