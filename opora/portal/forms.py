"""Forms of the public portal. They parse what a person typed; the rules live in the services,
whose DomainError codes the views put back on these fields (`FIELDS_BY_CODE`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opora.accounts.specialties import TopicClass
from opora.intake.models import RequesterKind, ServiceForm, TypicalQuestion
from opora.portal.models import ReplyChannel
from opora.portal.selectors import reply_channels, service_forms
from opora.portal.services import PortalRequest
from opora.registry.iin import IINError, validate_iin

# DomainError code -> the field it is about (else the error goes above the form).
FIELDS_BY_CODE = {
    "invalid_phone": "phone",
    "phone_required": "phone",
    "invalid_iin": "iin",
    "iin_required": "iin",
    "full_name_required": "full_name",
    "full_name_incomplete": "full_name",
    "full_name_too_long": "full_name",
    "invalid_email": "email",
    "email_required": "email",
    "reply_contact_required": "reply_contact",
    "consent_required": "consent",
}

CHILD_AGE_MAX = 18
# A self-booked slot is an online consultation: the client picks video, voice or chat.
ONLINE_FORMS = (ServiceForm.VIDEO, ServiceForm.VOICE, ServiceForm.CHAT)


class PortalRequestForm(forms.Form):
    """The request form of regulation 004: who asks, about what, how they want the answer.

    `anonymous`: no personal data fields at all. `booking`: the self-booking variant (contacts
    for the confirmation, the question optional). Where the service checks eligibility, the IIN
    is asked as well.
    """

    requester_kind = forms.ChoiceField(
        label=_("Who is asking"),
        choices=RequesterKind.choices,
        widget=forms.RadioSelect,
    )
    child_age = forms.IntegerField(
        label=_("The child's age, full years"),
        min_value=0,
        max_value=CHILD_AGE_MAX,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "min_value": _("Enter the age as a number of years from 0 to 18."),
            "max_value": _("Enter the age as a number of years from 0 to 18."),
            "invalid": _("Enter the age as a number of years from 0 to 18."),
        },
    )
    typical_question = forms.ChoiceField(
        label=_("Typical question"),
        help_text=_(
            "Pick the topic closest to your question, or write it below in your own words."
        ),
        choices=TypicalQuestion.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    # Issue 12: the topic class of regulation 002, as the operator's form asks it; optional.
    topic = forms.ChoiceField(
        label=_("Topic of the question"),
        help_text=_("If you are not sure, leave it: the consultant will choose."),
        choices=[("", _("Not sure")), *TopicClass.choices],
        required=False,
    )
    reason = forms.CharField(
        label=_("Your question in your own words"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    preferred_form = forms.ChoiceField(
        label=_("How would you like to get help"), required=False, widget=forms.RadioSelect
    )
    full_name = forms.CharField(
        label=_("Your full name"),
        help_text=_("Last name, first name and patronymic (if any)"),
        max_length=400,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    iin = forms.CharField(
        label=_("IIN"),
        help_text=_("12 digits: your own IIN or your child's"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    phone = forms.CharField(
        label=_("Phone"),
        help_text=_("For example +7 701 234 56 78"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        error_messages={"invalid": _("Enter the e-mail address like name@example.org.")},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    reply_channel = forms.ChoiceField(
        label=_("Where should we answer"), widget=forms.RadioSelect, initial=ReplyChannel.EMAIL
    )
    reply_contact = forms.CharField(
        label=_("Messenger user name or number"),
        help_text=_("Only if it differs from the phone above, for example @username"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    consent = forms.BooleanField(
        label=_("I agree to the processing of my personal data on these terms"),
        error_messages={"required": _("Please agree to the processing of your personal data.")},
    )
    # 152-FZ art. 10 (as amended 2025): health data need their own written consent. Optional:
    # without it the request is taken, but the child's registry record is not kept.
    special_consent = forms.BooleanField(
        label=_("I separately agree to the processing of my child's health and disability data"),
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        service: Any,
        anonymous: bool = False,
        booking: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.service = service
        self.anonymous = anonymous
        self.booking = booking
        forms_of_help = service_forms(service)
        preferred_form = self.fields["preferred_form"]
        reply_channel = self.fields["reply_channel"]
        assert isinstance(preferred_form, forms.ChoiceField)
        assert isinstance(reply_channel, forms.ChoiceField)
        preferred_form.choices = [
            (f.value, f.label) for f in forms_of_help if not booking or f in ONLINE_FORMS
        ]
        reply_channel.choices = [(c.value, c.label) for c in reply_channels(service)]
        if anonymous:
            for name in ("full_name", "iin", "phone", "email", "reply_channel", "reply_contact"):
                del self.fields[name]
            del self.fields["consent"]
            del self.fields["special_consent"]
        else:
            if not service.requires_eligibility:
                del self.fields["iin"]
                del self.fields["special_consent"]
            if booking:
                del self.fields["reply_channel"]
                del self.fields["reply_contact"]
        if booking:
            self.fields["requester_kind"].required = False
            self.fields["reason"].label = _("What would you like to discuss")

    def clean_iin(self) -> str:
        try:
            return validate_iin(self.cleaned_data["iin"])
        except IINError as err:
            raise forms.ValidationError(err.message, code=err.code) from err

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        if not self.booking and not data.get("typical_question") and not data.get("reason"):
            if "reason" not in self.errors:
                self.add_error(
                    "reason",
                    _("Pick a typical question or write your question in your own words."),
                )
        if self.booking and not self.anonymous:
            if not (data.get("phone") or "").strip() and not data.get("email"):
                if "email" not in self.errors:
                    self.add_error(
                        "email",
                        _("Enter an e-mail address or a phone number for the confirmation."),
                    )
        return data

    def _reply_channel(self) -> str:
        if self.anonymous:
            return ReplyChannel.PRIVATE_LINK
        if self.booking:
            # The confirmation goes wherever a contact was given; e-mail first.
            return ReplyChannel.EMAIL if self.cleaned_data.get("email") else ReplyChannel.PHONE
        return self.cleaned_data.get("reply_channel") or ReplyChannel.EMAIL

    def to_request(self) -> PortalRequest:
        d = self.cleaned_data
        return PortalRequest(
            is_anonymous=self.anonymous,
            full_name=d.get("full_name", ""),
            iin=d.get("iin", ""),
            phone=d.get("phone", ""),
            email=d.get("email", ""),
            reply_channel=self._reply_channel(),
            reply_contact=d.get("reply_contact", ""),
            requester_kind=d.get("requester_kind", ""),
            child_age=d.get("child_age"),
            typical_question=d.get("typical_question", ""),
            topic=d.get("topic", ""),
            reason=d.get("reason", ""),
            preferred_form=d.get("preferred_form", ""),
            special_consent=bool(d.get("special_consent")),
        )
