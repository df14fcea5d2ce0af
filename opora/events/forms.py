from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class RegistrationForm(forms.Form):
    # Phone first: most parents register from a phone and get an SMS.
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    second_full_name = forms.CharField(
        label=_("Second parent (if you both take part)"), max_length=300, required=False
    )
    email = forms.EmailField(
        label=_("E-mail (for the calendar file and the certificate)"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    anonymous = forms.BooleanField(
        label=_("Take part anonymously (a code instead of the name)"), required=False
    )
    announcements_opt_in = forms.BooleanField(
        label=_("Tell me about the service's next events"), required=False
    )
