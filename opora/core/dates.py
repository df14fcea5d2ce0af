"""Dates written as each language writes them in a sentence.

ru «5 декабря 2026», «на январь 2027»; kk «2026 жылғы 5 желтоқсан»; en "5 December 2026".
Russian and Kazakh write month and weekday names in lower case inside a sentence, which Django's
`F` (a capitalised nominative) does not; the word order of each form is a translatable pattern.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.dates import MONTHS, WEEKDAYS, WEEKDAYS_ABBR
from django.utils.translation import get_language, pgettext, pgettext_lazy

# Django's own "alt. month" names (the `E` format), written out so that makemessages keeps our
# Kazakh entries: Django's Kazakh catalogue capitalises them («5 Желтоқсан»), which is wrong inside
# a sentence; our catalogue (LOCALE_PATHS) takes precedence for every `|date:"j E"` as well.
MONTHS_ALT = {
    1: pgettext_lazy("alt. month", "January"),
    2: pgettext_lazy("alt. month", "February"),
    3: pgettext_lazy("alt. month", "March"),
    4: pgettext_lazy("alt. month", "April"),
    5: pgettext_lazy("alt. month", "May"),
    6: pgettext_lazy("alt. month", "June"),
    7: pgettext_lazy("alt. month", "July"),
    8: pgettext_lazy("alt. month", "August"),
    9: pgettext_lazy("alt. month", "September"),
    10: pgettext_lazy("alt. month", "October"),
    11: pgettext_lazy("alt. month", "November"),
    12: pgettext_lazy("alt. month", "December"),
}

# Languages whose month and weekday names are lower case inside a sentence.
LOWER_CASE_NAMES = frozenset({"ru", "kk"})

STYLES = ("long", "day_month", "month_year", "weekday", "weekday_short")


def _language() -> str:
    return (get_language() or "ru").split("-")[0].lower()


def _name(value: object, lang: str) -> str:
    text = str(value)
    return text.lower() if lang in LOWER_CASE_NAMES else text


def human_date(value: dt.date | dt.datetime | None, style: str = "long") -> str:
    """`value` in the active language, for use inside a sentence (capitalise with `capfirst` at the
    start of one). Styles: long «5 декабря 2026», day_month «5 декабря», month_year «январь 2027»
    (the nominative: «графики на январь 2027»), weekday «суббота, 5 декабря 2026», weekday_short
    «сб, 5 декабря». An aware datetime is shown in the current time zone, as `|date` does."""
    if value is None or value == "":
        return ""
    if style not in STYLES:
        raise ValueError(f"unknown date style {style!r}")
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        value = value.date()
    lang = _language()
    parts = {
        "day": value.day,
        "month": _name(MONTHS_ALT[value.month], lang),
        "year": value.year,
    }
    if style == "month_year":
        return pgettext("date: month and year", "%(month)s %(year)s") % {
            "month": _name(MONTHS[value.month], lang),
            "year": value.year,
        }
    if style in ("day_month", "weekday_short"):
        text = pgettext("date: day and month", "%(day)s %(month)s") % parts
    else:
        text = pgettext("date: day, month and year", "%(day)s %(month)s %(year)s") % parts
    if style == "weekday":
        weekday = _name(WEEKDAYS[value.weekday()], lang)
    elif style == "weekday_short":
        weekday = _name(WEEKDAYS_ABBR[value.weekday()], lang)
    else:
        return text
    return pgettext("date: weekday and date", "%(weekday)s, %(date)s") % {
        "weekday": weekday,
        "date": text,
    }
