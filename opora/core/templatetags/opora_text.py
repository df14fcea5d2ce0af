"""Words as people read them: a service's texts in the page's language, dates in the language's own
form, time zones by name (`{% load opora_text %}`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from opora.core.dates import human_date as _human_date
from opora.core.timezones import zone_label as _zone_label

register = template.Library()


@register.filter
def service_text(service: Any, field: str) -> str:
    """`{{ service|service_text:"join_instructions" }}`: the text in the active language, or the
    Russian one where it is not translated."""
    if service is None or service == "":
        return ""
    return service.text(field)


@register.filter
def zone_label(value: Any) -> str:
    """`{{ service|zone_label }}` or `{{ service.time_zone|zone_label }}` → «московское время (UTC+3)»."""
    return _zone_label(value)


@register.filter
def human_date(value: dt.date | dt.datetime | None, style: str = "long") -> str:
    """`{{ day|human_date }}` «5 декабря 2026»; styles day_month, month_year, weekday,
    weekday_short (see opora.core.dates)."""
    return _human_date(value, style)
