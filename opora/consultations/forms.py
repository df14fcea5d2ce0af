"""Forms of the consultant's pages after a consultation (the protocol, the technical failure) and of
the head's recordings pages."""

from __future__ import annotations

from typing import Any, TypeVar

from django import forms
from django.utils.translation import gettext_lazy as _

from opora.accounts.models import User
from opora.consultations.models import Consultation, Protocol, TechnicalFailure, Topic
from opora.core.inputs import SaneDateField
from opora.intake.topics import protocol_reason
from opora.scheduling.models import Place

F = TypeVar("F", bound=forms.Field)


def _field(form: forms.BaseForm, name: str, kind: type[F]) -> F:
    """The form's field `name`, as the kind it is declared (`form.fields` holds plain `Field`s)."""
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(f"{name} is a {type(field).__name__}, not a {kind.__name__}")
    return field


class ProtocolForm(forms.ModelForm):
    """The protocol. A first draft (no protocol yet) of a `consultation` starts with the request's
    reason — or the typical question the client picked — and the child's age filled in."""

    class Meta:
        model = Protocol
        fields = [
            "child_name",
            "child_age",
            "reason",
            "topic",
            "solution",
            "materials",
            "kind",
            "next_consultation",
            "note",
            "duration_minutes",
            "materials_pages",
            "child_present",
        ]
        widgets = {
            "reason": forms.Textarea(attrs={"rows": 3}),
            "solution": forms.Textarea(attrs={"rows": 5}),
            "materials": forms.Textarea(attrs={"rows": 3}),
            "note": forms.Textarea(attrs={"rows": 2}),
            "kind": forms.RadioSelect,
        }

    def __init__(self, *args: Any, consultation: Consultation | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # No «---------»: the required radio buttons offer only real answers, and the topic's
        # empty choice says what to do.
        _field(self, "kind", forms.ChoiceField).choices = Protocol.Kind.choices
        # Counted only when materials were printed or sent (regulation 004): empty is none.
        self.fields["materials_pages"].required = False
        _field(self, "topic", forms.ChoiceField).choices = [
            ("", _("Choose the topic…")),
            *Topic.choices,
        ]
        if consultation is not None and self.instance.pk is None and not self.is_bound:
            request = consultation.booking.request
            if not str(self.initial.get("reason") or "").strip():
                self.initial["reason"] = protocol_reason(request)
            if self.initial.get("child_age") is None and request.child_age is not None:
                self.initial["child_age"] = request.child_age

    def clean_materials_pages(self) -> int:
        return _pages_or_zero(self.cleaned_data.get("materials_pages"))


class FailureForm(forms.Form):
    cause = forms.ChoiceField(
        label=_("cause"), choices=TechnicalFailure.Cause.choices, widget=forms.RadioSelect
    )
    details = forms.CharField(
        label=_("details"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RecordingAccessForm(forms.Form):
    """Every read of a recording needs its reason (it goes to the access log)."""

    reason = forms.CharField(
        label=_("Why do you open the recording?"),
        max_length=500,
        help_text=_("For example: complaint No. 12 review; quality check of the service."),
    )


class RecordingReleaseForm(forms.Form):
    """An authority's request for a recording (a complaint review)."""

    recipient = forms.CharField(
        label=_("To whom"), max_length=300, help_text=_("The authority and the person.")
    )
    complaint_ref = forms.CharField(label=_("Complaint reference"), max_length=100)
    reason = forms.CharField(label=_("Reason"), max_length=500)
    requested_on = SaneDateField(
        label=_("Request received on"), widget=forms.DateInput(attrs={"type": "date"})
    )


def _pages_or_zero(value: int | None) -> int:
    return value or 0


class StartNowForm(forms.Form):
    """Help now (issue 12): who helps, in which form, and where (in person: a room; visiting: an
    address)."""

    consultant: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        label=_("Consultant"), queryset=None, empty_label=None
    )
    form = forms.ChoiceField(label=_("Form of the consultation"))
    place: forms.ModelChoiceField[Place] = forms.ModelChoiceField(
        label=_("Room"), queryset=None, required=False, empty_label=_("— none —")
    )
    visit_address = forms.CharField(label=_("Visit address"), max_length=300, required=False)

    def __init__(self, *args: Any, consultants: Any, places: Any, forms_: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        _field(self, "consultant", forms.ModelChoiceField).queryset = consultants
        _field(self, "place", forms.ModelChoiceField).queryset = places
        _field(self, "form", forms.ChoiceField).choices = forms_
