"""The breach register's pages: the list with each open breach's deadlines, registering a breach
(the security officer), and one breach's page with its clock, notices and actions (heads read)."""

from __future__ import annotations

import csv
import io
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from opora.accounts.policy import Action, can
from opora.accounts.workplace import StaffRequest, role_required
from opora.core.errors import DomainError
from opora.core.exports import csv_cell
from opora.core.models import Service
from opora.web import breaches
from opora.web.views.common import go, page


class BreachForm(forms.Form):
    detected_at = forms.DateTimeField(
        label=gettext_lazy("Detected (date and time)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    jurisdictions = forms.MultipleChoiceField(
        label=gettext_lazy("Jurisdictions"),
        choices=list(breaches.JURISDICTIONS.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    service = forms.ModelChoiceField(
        label=gettext_lazy("Service (its calendar counts the working day)"),
        queryset=Service.objects.order_by("name"),
        required=False,
        empty_label="—",
    )
    data_kinds = forms.CharField(label=gettext_lazy("Kinds of data affected"), max_length=500)
    affected_count = forms.IntegerField(
        label=gettext_lazy("People affected (estimate)"), min_value=0, max_value=10_000_000
    )
    description = forms.CharField(
        label=gettext_lazy("What happened (no names or IINs)"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    actions = forms.CharField(
        label=gettext_lazy("Actions taken"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class BreachUpdateForm(forms.Form):
    actions = forms.CharField(
        label=gettext_lazy("Actions taken"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    notices = forms.MultipleChoiceField(
        label=gettext_lazy("Notices sent now"),
        required=False,
        choices=[
            ("ru_notice", gettext_lazy("Roskomnadzor notified")),
            ("ru_results", gettext_lazy("Results sent to Roskomnadzor")),
            ("kz_notice", gettext_lazy("Authorised body notified")),
        ],
        widget=forms.CheckboxSelectMultiple,
    )
    close = forms.BooleanField(label=gettext_lazy("Close the breach"), required=False)


def _rows(items: list[Any]) -> list[dict[str, Any]]:
    now = timezone.now()
    return [{"breach": b, "deadlines": breaches.deadline_rows(b, now)} for b in items]


@never_cache
@role_required(Action.BREACH_VIEW, needs_service=False)
@require_http_methods(["GET", "POST"])
def breach_list(request: StaffRequest) -> HttpResponse:
    """The register; the security officer registers a new breach on the same page."""
    may_manage = can(request.user, Action.BREACH_MANAGE)
    form = BreachForm(request.POST or None) if may_manage else None
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            d = form.cleaned_data
            try:
                breach = breaches.breach_register(
                    actor=request.user,
                    detected_at=d["detected_at"],
                    jurisdictions=d["jurisdictions"],
                    data_kinds=d["data_kinds"],
                    affected_count=d["affected_count"],
                    description=d["description"],
                    actions=d["actions"],
                    service=d["service"],
                )
            except DomainError as err:
                form.add_error(None, err.message)
            else:
                messages.success(request, _("The breach is registered; its deadlines are shown."))
                return go(request, reverse("breach_detail", args=[breach.pk]))
    return page(
        request,
        "web/breaches/list.html",
        {"rows": _rows(breaches.breach_list()), "form": form, "nav": "breaches"},
        status=400 if form is not None and form.errors else 200,
    )


@never_cache
@role_required(Action.BREACH_VIEW, needs_service=False)
def breach_export(request: StaffRequest) -> HttpResponse:
    """The register as CSV (UTF-8 with a byte-order mark, for Excel); every text cell plain
    (`core.exports.csv_cell`: no formulas, no control characters); audited."""
    columns, rows = breaches.breach_register_export(actor=request.user)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(c) for c in columns])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="breaches-{stamp}.csv"'
    return response


@never_cache
@role_required(Action.BREACH_VIEW, needs_service=False)
def breach_detail(request: StaffRequest, pk: int) -> HttpResponse:
    breach = breaches.breach_get(pk)
    if breach is None:
        raise Http404(_("No such breach."))
    may_manage = can(request.user, Action.BREACH_MANAGE)
    return page(
        request,
        "web/breaches/detail.html",
        {
            "breach": breach,
            "deadlines": breaches.deadline_rows(breach),
            "form": BreachUpdateForm(initial={"actions": breach.actions}) if may_manage else None,
            "nav": "breaches",
        },
    )


@role_required(Action.BREACH_MANAGE, needs_service=False)
@require_POST
def breach_update(request: StaffRequest, pk: int) -> HttpResponse:
    breach = breaches.breach_get(pk)
    if breach is None:
        raise Http404(_("No such breach."))
    form = BreachUpdateForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            breaches.breach_update(
                actor=request.user,
                breach=breach,
                actions=d["actions"],
                notices=d["notices"],
                close=d["close"],
            )
        except DomainError as err:
            messages.error(request, err.message)
        else:
            messages.success(request, _("The breach is updated."))
    else:
        messages.error(request, _("Check the form."))
    return go(request, reverse("breach_detail", args=[pk]))
