"""Forms of the written-consultation pages."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from opora.accounts.models import User
from opora.mail.services import ANSWER_MAX_CHARS


class AnswerForm(forms.Form):
    body = forms.CharField(
        label=_("Answer"),
        max_length=ANSWER_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_(
            "It is sent from the service's official address in reply to the client's letter; "
            "the request code is added to the subject."
        ),
        error_messages={"required": _("Write the answer.")},
    )
    file = forms.FileField(
        label=_("File to send with the answer"),
        required=False,
        help_text=_("A document or a regulation the client asked for; links go in the text."),
        # A file input is as wide as its button and name: kept inside a 360-px screen.
        widget=forms.FileInput(),  # opora.css keeps file inputs inside a phone's width
    )
    # One key per opened form: a double click or a resent form stores one answer.
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission_key", secrets.token_urlsafe(24))


class ConsultantField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class AssignForm(forms.Form):
    consultant = ConsultantField(
        label=_("Responsible consultant"), queryset=User.objects.none(), empty_label=None
    )

    def __init__(self, *args: Any, consultants: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["consultant"]
        assert isinstance(field, ConsultantField)
        field.queryset = consultants
