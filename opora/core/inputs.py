"""The input boundary: every string from outside is checked here, once.

`InputBoundaryMiddleware` (opora.core.http) applies these checks to the path, the query string and
submitted form fields of every request; views parse dates from the query string with
`parse_date_param` / `parse_month_param`, and forms take dates with `SaneDateField`. A refused
value raises `InvalidInput`, which the middleware answers with a 400 page (or the API's JSON) whose
message names the problem — never a 500 from the database or from date arithmetic.

Why these rules: PostgreSQL refuses a NUL character in text (a `DataError`), openpyxl refuses the
other control characters in a cell, and a date near year 1 or 9999 overflows as soon as a day is
added or it is moved to another time zone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from opora.core.errors import DomainError

# C0 controls and DEL. Text fields may hold tab, line feed and carriage return; nothing else may.
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
TEXT_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# A query-string value longer than this is not something a person typed into a search box or a
# link the application made (the longest, a private-link token, is 43 characters).
MAX_QUERY_VALUE_LENGTH = 1000
# A path longer than this cannot be one of ours (axes' and our own path columns are 255 wide).
MAX_PATH_LENGTH = 2000

# Dates a person can mean: birth dates of parents (1900-) to bookings and reports (-2100).
MIN_YEAR = 1900
MAX_YEAR = 2100
MIN_DATE = dt.date(MIN_YEAR, 1, 1)
MAX_DATE = dt.date(MAX_YEAR, 12, 31)

# The largest primary key PostgreSQL's bigint holds: a larger number in a URL names no record.
MAX_ID = 2**63 - 1


class InvalidInput(DomainError):
    """A value from outside that the application refuses before it reaches the database."""

    code = "bad_input"
    http_status = 400


def has_control_chars(value: str, *, multiline: bool = False) -> bool:
    pattern = TEXT_CONTROL_CHARS if multiline else CONTROL_CHARS
    return pattern.search(value) is not None


def strip_control_chars(value: str, *, multiline: bool = True) -> str:
    """`value` without the control characters (tab and line breaks kept when `multiline`)."""
    pattern = TEXT_CONTROL_CHARS if multiline else CONTROL_CHARS
    return pattern.sub("", value)


def check_path(path: str) -> None:
    if has_control_chars(path):
        raise InvalidInput(
            _(
                "The address contains a control character (such as a NUL), which is not allowed. "
                "Check the link and try again."
            ),
            code="bad_path",
        )
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidInput(
            _("The address is too long (at most %(max)s characters). Check the link.")
            % {"max": MAX_PATH_LENGTH},
            code="bad_path",
        )


def check_text(
    name: str, value: str, *, multiline: bool = False, max_length: int | None = None
) -> None:
    """Raise `InvalidInput` naming the field `name` when `value` cannot be accepted."""
    if has_control_chars(name) or has_control_chars(value, multiline=multiline):
        raise InvalidInput(
            _(
                "The field “%(field)s” contains a control character (such as a NUL), which is "
                "not allowed. Remove it and try again."
            )
            % {"field": strip_control_chars(name, multiline=False)[:50]},
            code="control_character",
        )
    if max_length is not None and len(value) > max_length:
        raise InvalidInput(
            _("The field “%(field)s” is too long (at most %(max)s characters).")
            % {"field": name[:50], "max": max_length},
            code="too_long",
        )


def check_query(items: Iterable[tuple[str, list[str]]]) -> None:
    """The query string: no control characters at all, and values of a sane length."""
    for name, values in items:
        for value in values:
            check_text(name, value, max_length=MAX_QUERY_VALUE_LENGTH)


def check_form(items: Iterable[tuple[str, list[Any]]]) -> None:
    """Submitted form fields: text may span lines, but holds no other control characters.
    Lengths are the forms' own business (each field's max_length)."""
    for name, values in items:
        for value in values:
            if isinstance(value, str):
                check_text(name, value, multiline=True)


def date_out_of_range_message(value: dt.date | str) -> str:
    return _(
        "The date %(value)s is out of range: enter a date between the years %(min)s and %(max)s."
    ) % {"value": value, "min": MIN_YEAR, "max": MAX_YEAR}


def check_date(value: dt.date, *, field: str = "date") -> dt.date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise InvalidInput(date_out_of_range_message(value.isoformat()), code="date_out_of_range")
    return value


def parse_date_param(value: str | None, *, field: str = "date") -> dt.date | None:
    """A date from a query parameter: None when absent or not a date (the page then shows its
    default day), `InvalidInput` when it is a date outside MIN_YEAR..MAX_YEAR."""
    try:
        parsed = dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return check_date(parsed, field=field)


def parse_month_param(value: str | None, *, field: str = "month") -> dt.date | None:
    """'2025-06' -> date(2025, 6, 1); anything that is not a month -> None; a month outside the
    sane range -> `InvalidInput`."""
    try:
        parsed = dt.datetime.strptime((value or "").strip(), "%Y-%m").date()  # noqa: DTZ007
    except ValueError:
        return None
    return check_date(parsed, field=field)


def validate_date_range(value: dt.date | None) -> None:
    """A form/model validator: a ValidationError with the message instead of InvalidInput."""
    if value is not None and not MIN_DATE <= value <= MAX_DATE:
        raise ValidationError(date_out_of_range_message(value.isoformat()), code="date_range")


class SaneDateField(forms.DateField):
    """A form DateField that refuses dates outside MIN_YEAR..MAX_YEAR with a clear message."""

    default_validators = [validate_date_range]
