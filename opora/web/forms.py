"""Forms of the staff screens. They only parse and check what a person typed; the rules of the
domain live in the services, whose DomainError messages the views attach to these forms."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from opora.accounts.specialties import LanguageCode, TopicClass
from opora.core.inputs import (
    InvalidInput,
    SaneDateField,
    parse_date_param,
    parse_month_param,
)
from opora.core.models import Country, Region, Service
from opora.intake.models import Channel, Referral, RefusalGround, ServiceRequest
from opora.intake.services import REFERRAL_FIELDS, ReferralVia
from opora.registry.iin import IINError, validate_iin
from opora.scheduling.models import Place
from opora.scheduling.selectors import consultant_specialties
from opora.web.selectors import service_consultants, service_regions


def parse_month(value: str | None) -> dt.date | None:
    """'2025-06' -> date(2025, 6, 1); anything else -> None; a month out of range -> InvalidInput."""
    return parse_month_param(value)


def parse_date(value: str | None) -> dt.date | None:
    """A date from the query string (core.inputs.parse_date_param: out-of-range years refused)."""
    return parse_date_param(value)


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """`form.fields[name]`, a choice field (Django types the form's fields as plain `Field`)."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a choice field")
    return field


def model_choice_field(form: forms.BaseForm, name: str) -> forms.ModelChoiceField[Any]:
    """`form.fields[name]`, a model choice field (its queryset is set per request)."""
    field = form.fields[name]
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a model choice field")
    return field


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs, format="%H:%M")


def clean_iin_value(value: str) -> str:
    try:
        return validate_iin(value)
    except IINError as err:
        raise forms.ValidationError(err.message, code=err.code) from err


class CheckForm(forms.Form):
    """Regulation 001 §3.1–3.2: the IIN and the full name the caller gives."""

    iin = forms.CharField(
        label=_("IIN"),
        max_length=20,
        help_text=_("12 digits"),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=400,
        help_text=_("Surname, first name, patronymic — as the caller says them"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_iin(self) -> str:
        return clean_iin_value(self.cleaned_data["iin"])


class RequestForm(forms.Form):
    """Regulation 001 §6: full name, desired date and time, phones, region — and the reason."""

    check_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    full_name = forms.CharField(
        label=_("Full name"), max_length=400, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    iin = forms.CharField(
        label=_("IIN"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        help_text=_("For example +7 701 123 45 67"),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    phone_extra = forms.CharField(
        label=_("Additional phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(
        label=_("E-mail"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    region: forms.ModelChoiceField[Region] = forms.ModelChoiceField(
        label=_("Region"), queryset=None, required=False, empty_label=_("— choose —")
    )
    desired_date = SaneDateField(label=_("Desired date"), required=False, widget=DateInput)
    desired_time = forms.TimeField(label=_("Desired time"), required=False, widget=TimeInput)
    reason = forms.CharField(
        label=_("Reason for the request"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # Issue 12: the topic and language choose the competent consultants on the booking page;
    # anonymity is offered where the service allows it (as on the portal).
    topic = forms.ChoiceField(
        label=_("Topic"), required=False, choices=[("", _("— choose —")), *TopicClass.choices]
    )
    language = forms.ChoiceField(
        label=_("Language of help"),
        required=False,
        choices=[("", _("— choose —")), *LanguageCode.choices],
    )
    is_anonymous = forms.BooleanField(
        label=_("Anonymously (no name: the request is known by its code)"), required=False
    )
    # 152-FZ art. 10: the separate consent to processing the child's health and disability data,
    # asked aloud; without it the child's registry record is not kept.
    special_consent = forms.BooleanField(
        label=_("The client agreed to processing of the child's health and disability data"),
        required=False,
    )

    def __init__(self, *args: Any, service: Service, **kwargs: Any) -> None:
        # Shown on one page with CheckForm (same field names): keep the element ids distinct.
        kwargs.setdefault("auto_id", "request_%s")
        super().__init__(*args, **kwargs)
        self.service = service
        model_choice_field(self, "region").queryset = service_regions(service=service)
        if service.requires_eligibility:
            self.fields["iin"].required = True
        else:
            del self.fields["special_consent"]
        if service.allows_anonymous and not service.requires_eligibility:
            self.fields["full_name"].required = False
        else:
            del self.fields["is_anonymous"]

    def clean_iin(self) -> str:
        value = self.cleaned_data["iin"]
        return clean_iin_value(value) if value.strip() else ""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        date, time = data.get("desired_date"), data.get("desired_time")
        if time and not date:
            self.add_error("desired_date", _("Enter the date as well as the time."))
        if "is_anonymous" in self.fields and not data.get("is_anonymous"):
            if not (data.get("full_name") or "").strip() and "full_name" not in self.errors:
                self.add_error("full_name", _("Enter the full name, or tick “Anonymously”."))
        return data

    @property
    def desired_at(self) -> dt.datetime | None:
        date = self.cleaned_data.get("desired_date")
        if not date:
            return None
        time = self.cleaned_data.get("desired_time") or self.service.consultation_opens
        return dt.datetime.combine(date, time, tzinfo=self.service.tz)


class RefuseForm(forms.Form):
    """Regulation 000 §9: refuse, with one of the grounds, politely."""

    ground = forms.ChoiceField(
        label=_("Ground for refusal"), choices=RefusalGround.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=1000,
        help_text=_("For a question outside the service: where the caller should turn"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RedirectForm(forms.Form):
    """Regulation 000 §10: a question outside the service — tell whom to ask."""

    referral_text = forms.CharField(
        label=_("Where to turn"),
        max_length=4000,
        help_text=_("The body that deals with the question, its phone or address"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SlotFilterForm(forms.Form):
    show_optional = False  # a filter: every field is optional, saying so is noise

    date = SaneDateField(label=_("Date"), required=False, widget=DateInput)
    specialty = forms.ChoiceField(label=_("Specialty"), required=False)
    consultant = forms.ChoiceField(label=_("Consultant"), required=False)

    def __init__(self, *args: Any, service: Service, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "specialty").choices = [("", _("Any specialty"))] + [
            (s, s) for s in consultant_specialties(service=service)
        ]
        choice_field(self, "consultant").choices = [("", _("Any consultant"))] + [
            (str(c.pk), f"{c.display_name} — {c.specialty}" if c.specialty else c.display_name)
            for c in service_consultants(service=service)
        ]


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label=_("What to change"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ImportForm(forms.Form):
    month = forms.CharField(
        label=_("Month of the schedule"), widget=forms.TextInput(attrs={"type": "month"})
    )
    file = forms.FileField(
        label=_("XLSX file"),
        help_text=_("One row per working period: consultant, date, from, to"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )

    def clean_month(self) -> dt.date:
        try:
            month = parse_month(self.cleaned_data["month"])
        except InvalidInput as e:
            raise forms.ValidationError(e.message, code=e.code) from e
        if month is None:
            raise forms.ValidationError(_("Enter the month as YYYY-MM."))
        return month

    def clean_file(self) -> Any:
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Choose an .xlsx file (Excel)."))
        return f


class ScheduleMonthForm(forms.Form):
    """One row per working day with 'from' and 'to'; a day left empty is a day off."""

    def __init__(
        self,
        *args: Any,
        days: list[dt.date],
        initial_periods: dict[dt.date, tuple[Any, ...]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.days = days
        for day in days:
            start, end, topic, group = (*initial_periods.get(day, ()), None, None, "", "")[:4]
            # Regulation 003 Appendix 1: the planned consultation's topic and target group.
            self.fields[self.key(day, "topic")] = forms.CharField(
                label=_("Topic of the consultation"),
                required=False,
                max_length=300,
                initial=topic,
            )
            self.fields[self.key(day, "group")] = forms.CharField(
                label=_("Target group"), required=False, max_length=300, initial=group
            )
            self.fields[self.key(day, "from")] = forms.TimeField(
                label=pgettext_lazy("time range", "From"),
                required=False,
                initial=start,
                widget=TimeInput,
            )
            self.fields[self.key(day, "to")] = forms.TimeField(
                label=pgettext_lazy("time range", "To"),
                required=False,
                initial=end,
                widget=TimeInput,
            )

    @staticmethod
    def key(day: dt.date, part: str) -> str:
        return f"d{day:%Y%m%d}_{part}"

    def rows(self) -> list[dict]:
        return [
            {
                "date": d,
                "start": self[self.key(d, "from")],
                "end": self[self.key(d, "to")],
                "topic": self[self.key(d, "topic")],
                "group": self[self.key(d, "group")],
            }
            for d in self.days
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for day in self.days:
            kf, kt = self.key(day, "from"), self.key(day, "to")
            start, end = data.get(kf), data.get(kt)
            if kf in self.errors or kt in self.errors:
                continue
            if (start is None) != (end is None):
                missing = kt if end is None else kf
                self.add_error(missing, _("Enter both times, or leave both empty for a day off."))
            elif start is not None and start >= end:
                self.add_error(kt, _("The end must be later than the start."))
        return data

    @property
    def periods(self) -> list[tuple[dt.date, dt.time, dt.time, str, str]]:
        out = []
        for day in self.days:
            start = self.cleaned_data.get(self.key(day, "from"))
            end = self.cleaned_data.get(self.key(day, "to"))
            if start is not None and end is not None:
                topic = self.cleaned_data.get(self.key(day, "topic")) or ""
                group = self.cleaned_data.get(self.key(day, "group")) or ""
                out.append((day, start, end, topic, group))
        return out


# --- Issue 4: the queue, the referral directory, counting, the registries ------------------------


def _choices_with_any(choices: list[tuple[str, Any]], any_label: Any) -> list[tuple[str, Any]]:
    return [("", any_label), *choices]


class QueueFilterForm(forms.Form):
    show_optional = False

    channel = forms.ChoiceField(label=_("Channel"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "channel").choices = _choices_with_any(
            Channel.choices, _("All channels")
        )
        choice_field(self, "status").choices = _choices_with_any(
            ServiceRequest.Status.choices, _("All statuses")
        )


class ReferralForm(forms.ModelForm):
    """An entry of the referral directory; the service `referral_create/update` saves it."""

    country = forms.ChoiceField(label=_("Country"), required=False)
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")

    class Meta:
        model = Referral
        fields = list(REFERRAL_FIELDS)
        widgets = {
            "helps_with": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "helps_with": _("Topics in plain words: the search looks for them."),
            "region": _("Leave empty if they help the whole country."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "country").choices = _choices_with_any(Country.choices, _("Any country"))
        region = model_choice_field(self, "region")
        region.queryset = Region.objects.order_by("country", "name_ru")
        region.empty_label = _("— whole country —")


class ReferralSearchForm(forms.Form):
    show_optional = False

    q = forms.CharField(
        label=_("Topic or organisation"),
        required=False,
        max_length=200,
        help_text=_("Words from the question, for example: autism, benefit, school"),
    )
    region: forms.ModelChoiceField[Region] = forms.ModelChoiceField(
        label=_("Region"), queryset=None, required=False, empty_label=_("Any region")
    )

    def __init__(self, *args: Any, service: Service, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "region").queryset = service_regions(service=service)


class ReferralSendForm(forms.Form):
    """Send one directory entry to the client of a request (dispatcher consulting)."""

    referral = forms.IntegerField(widget=forms.HiddenInput)
    via = forms.ChoiceField(
        label=_("How to tell the client"),
        choices=ReferralVia.choices,
        initial=ReferralVia.CHANNEL,
        widget=forms.RadioSelect,
    )


class CountWithForm(forms.Form):
    """Regulation 004: both parents on one question — count this request with another one."""

    other = forms.CharField(
        label=_("The other request: number or code"),
        max_length=20,
        help_text=_("For example 125 or ABCD-2345"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class RegistryFilterForm(forms.Form):
    show_optional = False

    date_from = SaneDateField(
        label=pgettext_lazy("date range", "From"), required=False, widget=DateInput
    )
    date_to = SaneDateField(
        label=pgettext_lazy("date range", "To"), required=False, widget=DateInput
    )
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    consultant = forms.ChoiceField(label=_("Consultant"), required=False)

    def __init__(self, *args: Any, service: Service, with_consultant: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "channel").choices = _choices_with_any(
            Channel.choices, _("All channels")
        )
        choice_field(self, "status").choices = _choices_with_any(
            ServiceRequest.Status.choices, _("All statuses")
        )
        if with_consultant:
            choice_field(self, "consultant").choices = _choices_with_any(
                [(str(c.pk), c.display_name) for c in service_consultants(service=service)],
                _("Any consultant"),
            )
        else:
            del self.fields["consultant"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period must not be before its start."))
        return data


class RequestTopicForm(forms.Form):
    """Issue 12: the topic class (regulation 002) of a request that came by e-mail or a messenger."""

    topic = forms.ChoiceField(
        label=_("Topic"),
        choices=[("", _("— choose —")), *TopicClass.choices],
        error_messages={"required": _("Choose one of the seven topics.")},
    )
    language = forms.ChoiceField(
        label=_("Language of help"),
        required=False,
        choices=[("", _("— choose —")), *LanguageCode.choices],
    )


class PlaceForm(forms.Form):
    """A room or an address of the service (issue 12); the rules are in scheduling's services."""

    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        help_text=_("For example «Room 1» or «Branch on Abaya St.»"),
        error_messages={"required": _("Give the place a name, for example «Room 1».")},
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[], widget=forms.RadioSelect)
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)  # noqa: S101
        kind.choices = Place.Kind.choices
        kind.initial = Place.Kind.ROOM


class SlotFormForm(forms.Form):
    """The form a slot is offered in and, in person, its room (issue 12)."""

    form = forms.ChoiceField(label=_("Form of the consultation"), choices=[])
    place = forms.TypedChoiceField(
        label=_("Room"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[],
        help_text=_("Needed for a consultation in person at the service."),
    )

    def __init__(self, *args: Any, places: Any, forms_: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field = self.fields["form"]
        place_field = self.fields["place"]
        assert isinstance(form_field, forms.ChoiceField)  # noqa: S101
        assert isinstance(place_field, forms.ChoiceField)  # noqa: S101
        form_field.choices = forms_
        place_field.choices = [("", _("— none —")), *((p.pk, p.name) for p in places)]


class ChildHelpForm(forms.Form):
    """Regulation 004: the child needs direct help — the directory entries to refer to."""

    organisations = forms.TypedMultipleChoiceField(
        label=_("Organisations that help the child"),
        coerce=int,
        choices=[],
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _(
                "Choose at least one organisation from the directory that helps children."
            )
        },
    )
    note = forms.CharField(
        label=_("What the child needs (for the staff)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, referrals: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organisations"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101
        field.choices = [(r.pk, r.name) for r in referrals]
