"""What each form of the 1411 chain is: who sends it to whom, by which day, with which figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from opora.reports.figures import HANDED_OVER, SERVED, next_month


@dataclass(frozen=True)
class KindSpec:
    code: str
    title: Any
    sender: str  # the service's organisation field: intake_organisation / provider_organisation
    receiver: str  # ... or authority
    due_day: int  # of the month after the reported one
    measure: str
    coded: bool  # consultants as codes (the authority sees no person)


KINDS: dict[str, KindSpec] = {
    "3.1": KindSpec(
        "3.1",
        _("Requests handed over to the University"),
        "intake_organisation",
        "provider_organisation",
        5,
        HANDED_OVER,
        False,
    ),
    "3.2": KindSpec(
        "3.2",
        _("Persons who received help (confirmation of the University)"),
        "provider_organisation",
        "intake_organisation",
        10,
        SERVED,
        False,
    ),
    "3.3": KindSpec(
        "3.3",
        _("Requests handed over (report to the authority)"),
        "intake_organisation",
        "authority",
        15,
        HANDED_OVER,
        True,
    ),
    "3.4": KindSpec(
        "3.4",
        _("Persons who received help (report to the authority)"),
        "intake_organisation",
        "authority",
        15,
        SERVED,
        True,
    ),
}

# Regulation 001: the consultants' schedules of the next month are submitted by the 25th.
SCHEDULE_DUE_DAY = 25


def due_date(kind: str, month: dt.date) -> dt.date:
    """The day by which the report of `month` is due (regulation 000 §21–23: "до 5/10/15 числа")."""
    return next_month(month).replace(day=KINDS[kind].due_day)
