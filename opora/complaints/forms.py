"""Forms of the complaint pages: fields only; the rules are in `services`."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from opora.complaints.models import Complaint


class PortalComplaintForm(forms.Form):
    """Phone first: most complainants write from a phone and are answered by SMS."""

    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        help_text=_("The answer comes by SMS. Not needed for an anonymous complaint."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    full_name = forms.CharField(
        label=_("Your full name"),
        max_length=400,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("E-mail (optional)"),
        required=False,
        help_text=_("The full answer is also sent here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    anonymous = forms.BooleanField(
        label=_("Complain anonymously: no name, no phone; I follow the complaint by its code"),
        required=False,
    )
    request_code = forms.CharField(
        label=_("Request code (optional)"),
        max_length=16,
        required=False,
        help_text=_(
            "From the confirmation of your request or booking, e.g. AB3D-7KQ2. It is checked "
            "against the phone number."
        ),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
    )
    text = forms.CharField(
        label=_("What is the complaint about"),
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    consent = forms.BooleanField(label=_("I agree to the processing of these data"))

    def __init__(self, *args: object, allows_anonymous: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if not allows_anonymous:
            del self.fields["anonymous"]


class FollowForm(forms.Form):
    code = forms.CharField(
        label=_("Follow-up code"),
        max_length=32,
        help_text=_("Shown when the complaint was registered, e.g. ABCD-EFGH-JKMN-PQRS."),
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "spellcheck": "false", "autocomplete": "off"}
        ),
    )


class DisagreeForm(forms.Form):
    code = forms.CharField(widget=forms.HiddenInput, max_length=32)
    text = forms.CharField(
        label=_("Why you disagree (optional)"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class StaffComplaintForm(forms.Form):
    """A paper letter or a visit, entered by a coordinator or a head."""

    channel = forms.ChoiceField(
        label=_("Received by"),
        choices=[
            (Complaint.Channel.PAPER, Complaint.Channel.PAPER.label),
            (Complaint.Channel.VISIT, Complaint.Channel.VISIT.label),
            (Complaint.Channel.EMAIL, Complaint.Channel.EMAIL.label),
        ],
    )
    full_name = forms.CharField(label=_("Complainant's full name"), max_length=400)
    phone = forms.CharField(label=_("Phone (optional)"), max_length=32, required=False)
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    postal_address = forms.CharField(
        label=_("Postal address (optional)"), max_length=500, required=False
    )
    request_code = forms.CharField(
        label=_("Request code (optional)"), max_length=16, required=False
    )
    text = forms.CharField(
        label=_("Complaint text"), max_length=8000, widget=forms.Textarea(attrs={"rows": 6})
    )


class AssignForm(forms.Form):
    reviewer = forms.TypedChoiceField(label=_("Reviewer"), coerce=int)

    def __init__(self, *args: object, candidates: list = (), **kwargs: object) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].choices = [("", "—")] + [
            (u.pk, f"{u.display_name} ({u.get_role_display()})") for u in candidates
        ]


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer to the complainant"),
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Sent by SMS and e-mail to the complainant's contacts and shown on the follow-up page."
        ),
    )


class RecordingRequestForm(forms.Form):
    requested_on = forms.DateField(
        label=_("The authority's written request received on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The recording is due within 3 working days of this day (§19)."),
    )
