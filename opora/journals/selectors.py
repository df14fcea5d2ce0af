"""Reading a journal: who may, for which period, and the rows — each read audited here.

Audit by construction: `journal_read` records the read (`journal.viewed`) or the export
(`journal.exported`) before it hands out a single row, with the form, the format, the period, the
filters and the number of rows — never a name. The rows are streamed from the database
(`iterator()`), so an export of a year of a national service is not held in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from opora.accounts import policy
from opora.accounts.actors import Actor
from opora.accounts.policy import Action
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError, NotFound, PermissionDenied
from opora.journals import rows as journal_rows
from opora.journals.catalogue import FORMATS, FORMS, JournalForm
from opora.scheduling.calendar import local_now

MAX_DAYS = 366  # a row export covers at most a year
CHUNK = 2000


class JournalPeriodError(DomainError):
    """A period the journal cannot be made for; the message names the problem."""

    http_status = 422


@dataclass
class Journal:
    form: JournalForm
    service: Any
    date_from: dt.date
    date_to: dt.date
    coded: bool
    count: int
    rows: Iterator[list[Any]]
    header: dict[str, str] = field(default_factory=dict)  # the form's header lines, filled


def may_read_journals(actor: Actor) -> bool:
    """The staff who keep the journals (`journal.view`) or the authority (`journal.coded`)."""
    return policy.can(actor, Action.JOURNAL_VIEW) or policy.can(actor, Action.JOURNAL_CODED)


def journal_form_get(code: str) -> JournalForm:
    """The form `code`, or NotFound naming the forms there are."""
    form = FORMS.get(code)
    if form is None:
        raise NotFound(
            _("There is no journal “%(form)s”. The journals are: %(forms)s.")
            % {"form": code, "forms": ", ".join(FORMS)}
        )
    return form


def journal_period_check(*, service: Any, date_from: dt.date, date_to: dt.date) -> None:
    """JournalPeriodError for `to` before `from`, a period not begun yet, or more than a year."""
    if date_to < date_from:
        raise JournalPeriodError(
            _("The end of the period (%(to)s) is before its start (%(from)s).")
            % {"to": date_to.isoformat(), "from": date_from.isoformat()},
            code="period_reversed",
        )
    today = local_now(service).date()
    if date_from > today:
        raise JournalPeriodError(
            _("The period starts on %(from)s, which has not begun yet (today is %(today)s).")
            % {"from": date_from.isoformat(), "today": today.isoformat()},
            code="period_not_begun",
        )
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise JournalPeriodError(
            _("The period is longer than a year (%(days)s days); a journal covers at most %(max)s.")
            % {"days": (date_to - date_from).days + 1, "max": MAX_DAYS},
            code="period_too_long",
        )


def journal_read(
    *,
    actor: Actor,
    service: Any,
    form: str,
    date_from: dt.date,
    date_to: dt.date,
    export: str = "",
    channel: str = "",
    status: str = "",
    consultant: Any = None,
    service_copy: bool = False,
) -> Journal:
    """The journal `form` of `service` for [date_from, date_to] (service-local days).

    Staff of the service (consultant, head, coordinator, administrator) read it; a consultant
    only their own rows. The authority reads every service, always coded. The journal of services
    (regulation 004) is coded in every copy but the service copy (`service_copy`, for heads,
    coordinators and administrators). `export` is the file format ("" for the page).
    """
    journal_form = journal_form_get(form)
    # The staff who keep the journals read their service's (a consultant: their own rows); the
    # authority reads every service's, always coded: no person is named to it.
    action = Action.JOURNAL_EXPORT if export else Action.JOURNAL_VIEW
    if not may_read_journals(actor):
        raise PermissionDenied(_("You may not see the journals."))
    authority = not policy.can(actor, action) and policy.can(actor, Action.JOURNAL_CODED)
    if not authority:
        policy.require(actor, action, service=service)
    if export and export not in FORMATS:
        raise DomainError(
            _("Unknown format “%(format)s”; choose one of: %(formats)s.")
            % {"format": export, "formats": ", ".join(FORMATS)},
            code="format",
        )
    journal_period_check(service=service, date_from=date_from, date_to=date_to)
    if policy.own_only(actor, action):
        consultant = actor
    coded = authority or (
        journal_form.coded_by_default
        and not (service_copy and policy.can(actor, Action.JOURNAL_SERVICE_COPY, service=service))
    )
    header: dict[str, str] = {}
    period = {"service": service, "date_from": date_from, "date_to": date_to}
    if form in ("requests-002", "appeals-003"):
        qs: Any = journal_rows.requests_queryset(
            **period, channel=channel, status=status, consultant=consultant
        )
        build: Any = (
            journal_rows.requests_row if form == "requests-002" else journal_rows.appeals_row
        )
        extra: dict[str, Any] = {"coded": coded}
    elif form == "consultations-002":
        qs = journal_rows.consultations_queryset(**period, consultant=consultant)
        build, extra = journal_rows.consultations_row, {"coded": coded}
        if consultant is not None:
            header = {
                "ФИО специалиста": (
                    journal_rows.staff_code(consultant.pk) if coded else consultant.display_name
                ),
                "Должность": str(consultant.get_role_display()).lower() if consultant.role else "",
            }
    elif form == "services-004":
        qs = journal_rows.services_values(**period)
        if consultant is not None:
            qs = qs.filter(assigned_to=consultant)
        build, extra = journal_rows.services_row, {"service": service, "coded": coded}
    elif form == "schedule-003":
        qs = journal_rows.schedule_values(**period, consultant=consultant)
        build, extra = journal_rows.schedule_row, {"coded": coded}
        header = {"Месяц": journal_rows.month_text(date_from)}
    else:  # participants-002: no group consultations exist yet — the form without rows
        qs, build, extra = None, None, {}
    count = qs.count() if qs is not None else 0
    audit_record(
        actor=actor,
        event_type=AuditEventType.JOURNAL_EXPORTED if export else AuditEventType.JOURNAL_VIEWED,
        subject=service,
        extra={
            "form": form,
            "format": export or "page",
            "rows": count,
            "from": date_from.isoformat(),
            "to": date_to.isoformat(),
            "channel": channel or None,
            "status": status or None,
            "consultant_id": consultant.pk if consultant is not None else None,
            "coded": coded,
        },
    )
    rows: Iterator[list[Any]] = (
        journal_rows.numbered(qs.iterator(chunk_size=CHUNK), build, **extra)
        if qs is not None
        else iter(())
    )
    return Journal(
        form=journal_form,
        service=service,
        date_from=date_from,
        date_to=date_to,
        coded=coded,
        count=count,
        rows=rows,
        header=header,
    )
