"""Regulation 001 §10: the register of responsible persons of the two sides of the service, with
its history; a change is recorded here and sent to the other side (`scheduling.responsible`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from opora.accounts.models import ResponsibleSide
from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest
from opora.core.errors import DomainError
from opora.scheduling import responsible as responsible_services
from opora.scheduling.calendar import local_now
from opora.web.decorators import role_required
from opora.web.views.common import attach_error, go, page

FIELDS = {
    "invalid_side": "side",
    "full_name_required": "full_name",
    "valid_from_future": "valid_from",
    "valid_from_too_early": "valid_from",
}


class ResponsibleChangeForm(forms.Form):
    side = forms.ChoiceField(label=gettext_lazy("Side"), choices=ResponsibleSide.choices)
    full_name = forms.CharField(label=gettext_lazy("Full name"), max_length=300)
    position = forms.CharField(label=gettext_lazy("Position"), max_length=300, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=32, required=False)
    email = forms.EmailField(label=gettext_lazy("E-mail"), required=False)
    valid_from = forms.DateField(
        label=gettext_lazy("In effect from"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


@role_required(Action.RESPONSIBLE_PERSONS)
@require_http_methods(["GET", "POST"])
def responsible_persons(request: StaffRequest) -> HttpResponse:
    """The current person of each side, the change form and the history (late changes marked)."""
    service = request.service
    status = 200
    if request.method == "POST":
        form = ResponsibleChangeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                person = responsible_services.responsible_person_change(
                    actor=request.user,
                    service=service,
                    side=data["side"],
                    full_name=data["full_name"],
                    position=data["position"],
                    phone=data["phone"],
                    email=data["email"],
                    valid_from=data["valid_from"],
                )
            except DomainError as err:
                attach_error(form, err, FIELDS)
            else:
                if person.is_late:
                    messages.warning(
                        request,
                        _(
                            "The change is recorded and sent to the other side, later than one "
                            "working day after it took effect."
                        ),
                    )
                else:
                    messages.success(
                        request, _("The change is recorded and sent to the other side.")
                    )
                return go(request, reverse("responsible_persons"))
        status = 400
    else:
        form = ResponsibleChangeForm(initial={"valid_from": local_now(service).date()})
    register = responsible_services.responsible_register(actor=request.user, service=service)
    sides: list[dict[str, Any]] = [
        {
            "value": value,
            "label": label,
            "current": register.current.get(value),
            "addresses": responsible_services.responsible_other_side_addresses(
                service=service, side=value
            ),
        }
        for value, label in ResponsibleSide.choices
    ]
    ctx = {"nav": "responsible", "form": form, "sides": sides, "history": register.history}
    return page(request, "web/responsible.html", ctx, status=status)
