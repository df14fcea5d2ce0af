"""The row locks of surveys, in one place (every `select_for_update` of the app is here)."""

from __future__ import annotations

from django.db.models import QuerySet

from opora.surveys.models import Assignment, Instrument


def instrument_qs_select_for_update() -> QuerySet[Instrument]:
    return Instrument.objects.select_for_update()


def assignment_qs_select_for_update() -> QuerySet[Assignment]:
    return Assignment.objects.select_for_update()
