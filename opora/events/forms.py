from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from opora.accounts.models import User
from opora.consultations.models import Topic
from opora.events.models import Event
from opora.intake.models import Client


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


class EventForm(forms.Form):
    """The staff page's event: one, or the first of a series. `kind`, the invited clients and the
    repetition only when creating (`creating=False` drops them)."""

    REPEAT_NONE, REPEAT_WEEKLY, REPEAT_DAYS = "", "weekly", "days"

    kind = forms.ChoiceField(label=_("Kind"), choices=Event.Kind.choices)
    title_ru = forms.CharField(label=_("Title (Russian)"), max_length=300)
    title_kk = forms.CharField(label=_("Title (Kazakh)"), max_length=300, required=False)
    title_en = forms.CharField(label=_("Title (English)"), max_length=300, required=False)
    description_ru = forms.CharField(
        label=_("Description (Russian)"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    description_kk = forms.CharField(
        label=_("Description (Kazakh)"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    description_en = forms.CharField(
        label=_("Description (English)"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    starts_at = forms.DateTimeField(
        label=_("Date and time (the service's time)"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration, minutes"),
        min_value=5,
        max_value=24 * 60,
        initial=60,
        error_messages={
            "min_value": _("An event lasts at least 5 minutes."),
            "max_value": _("An event lasts at most a day (1440 minutes)."),
        },
    )
    capacity = forms.IntegerField(
        label=_("Places"),
        min_value=1,
        max_value=10000,
        initial=20,
        error_messages={
            "min_value": _("An event needs at least one place."),
            "max_value": _("At most 10 000 places."),
        },
    )
    language = forms.ChoiceField(label=_("Language"), choices=Event.Language.choices)
    topic = forms.ChoiceField(label=_("Topic"), choices=[("", "—"), *Topic.choices], required=False)
    audience = forms.CharField(label=_("Target audience"), max_length=300, required=False)
    lead = forms.ModelChoiceField(
        label=_("Lead consultant"), queryset=User.objects.none(), empty_label="—"
    )
    presenters = forms.ModelMultipleChoiceField(
        label=_("Presenters"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    invited = forms.ModelMultipleChoiceField(
        label=_("Invited clients (group consultation)"),
        queryset=Client.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    repeat = forms.ChoiceField(
        label=_("Repeat"),
        required=False,
        choices=[
            (REPEAT_NONE, _("Once")),
            (REPEAT_WEEKLY, _("Every week")),
            (REPEAT_DAYS, _("Every N days")),
        ],
    )
    every_days = forms.IntegerField(
        label=_("Every how many days"), min_value=1, max_value=366, required=False
    )
    count = forms.IntegerField(label=_("Number of events"), min_value=1, required=False)
    until = forms.DateField(
        label=_("Or: the last date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(
        self,
        *args: Any,
        staff: QuerySet[User],
        clients: Iterable[Client] = (),
        creating: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        lead = self.fields["lead"]
        presenters = self.fields["presenters"]
        assert isinstance(lead, forms.ModelChoiceField)  # noqa: S101
        assert isinstance(presenters, forms.ModelMultipleChoiceField)  # noqa: S101
        lead.queryset = presenters.queryset = staff
        # Relabelling a field's choices on the instance, as Django's documentation does; the
        # stubs type the method on the class only.
        lead.label_from_instance = _staff_label  # type: ignore[assignment,method-assign]
        presenters.label_from_instance = _staff_label  # type: ignore[assignment,method-assign]
        invited = self.fields["invited"]
        assert isinstance(invited, forms.ModelMultipleChoiceField)  # noqa: S101
        pks = [c.pk for c in clients]
        invited.queryset = Client.objects.filter(pk__in=pks).order_by(
            "last_name", "first_name", "pk"
        )
        invited.label_from_instance = _client_label  # type: ignore[assignment,method-assign]
        if not creating:
            for name in ("kind", "invited", "repeat", "every_days", "count", "until"):
                del self.fields[name]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "repeat" not in self.fields:
            return data
        repeat = data.get("repeat") or self.REPEAT_NONE
        if repeat == self.REPEAT_WEEKLY:
            data["every_days"] = 7
        elif repeat == self.REPEAT_DAYS and not data.get("every_days"):
            self.add_error("every_days", _("Say every how many days the event repeats."))
        if repeat == self.REPEAT_NONE:
            data["every_days"] = data["count"] = data["until"] = None
        elif data.get("count") and data.get("until"):
            self.add_error("until", _("Give the number of events or the last date, not both."))
        elif not data.get("count") and not data.get("until"):
            self.add_error("count", _("Give the number of events or the last date of the series."))
        if data.get("invited") and data.get("kind") != Event.Kind.GROUP:
            self.add_error("invited", _("Only a group consultation has invited clients."))
        return data


def _client_label(client: Client) -> str:
    return client.full_name


def _staff_label(user: User) -> str:
    return user.display_name
