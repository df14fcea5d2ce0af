"""Forms of the consultant's pages after a consultation: the protocol and the technical failure."""

from django import forms
from django.utils.translation import gettext_lazy as _

from opora.consultations.models import Protocol, TechnicalFailure


class ProtocolForm(forms.ModelForm):
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
        ]
        widgets = {
            "reason": forms.Textarea(attrs={"rows": 3}),
            "solution": forms.Textarea(attrs={"rows": 5}),
            "materials": forms.Textarea(attrs={"rows": 3}),
            "note": forms.Textarea(attrs={"rows": 2}),
            "kind": forms.RadioSelect,
        }


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
