"""Reading a journal: who may, for which period, and the rows — each read audited here.

Audit by construction: `journal_read` records the read (`journal.viewed`) or the export
(`journal.exported`) before it hands out a single row, with the form, the format, the period, the
filters and the number of rows — never a name. The rows are streamed from the database
(`iterator()`), so an export of a year of a national service is not held in memory.
"""

from __future__ import annotations

import datetime as dt
import heapq
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
from opora.journals import sources
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


def _provided(key: str, period: dict[str, Any], consultant: Any) -> Any:
    """The rows another domain provides for `key` in the period (None when nobody does); a
    consultant reads the events they lead."""
    provider = sources.provided_rows(key)
    if provider is None:
        return None
    rows: Any = provider(period["service"], period["date_from"], period["date_to"])
    if consultant is not None:
        rows = rows.filter(lead_id=consultant.pk)
    return rows


class _Merged:
    """Two streams of rows merged by their day: the requests' services (by `created_at`) and
    the events' participants (by `date`), each row tagged with its builder."""

    def __init__(self, requests: Any, events: Any) -> None:
        self.requests, self.events = requests, events

    def count(self) -> int:
        return int(self.requests.count()) + int(self.events.count())

    def iterator(self, chunk_size: int = CHUNK) -> Iterator[tuple[str, dict[str, Any]]]:
        return heapq.merge(
            (("request", r) for r in self.requests.iterator(chunk_size=chunk_size)),
            (("event", r) for r in self.events.iterator(chunk_size=chunk_size)),
            key=lambda tagged: tagged[1]["created_at" if tagged[0] == "request" else "date"],
        )


def _merged_row(number: int, tagged: tuple[str, Any], **extra: Any) -> list[Any]:
    kind, row = tagged
    if kind == "request":
        return journal_rows.services_row(number, row, **extra)
    return journal_rows.event_services_row(number, row, **extra)


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
        events = _provided(sources.EVENT_SERVICES, period, consultant)
        if events is not None:
            # The events' participants join the requests' services, in the order of their days.
            qs, build, extra = (
                _Merged(qs, events),
                _merged_row,
                {"service": service, "coded": coded},
            )
    elif form == "schedule-003":
        qs = journal_rows.schedule_values(**period, consultant=consultant)
        build, extra = journal_rows.schedule_row, {"coded": coded}
        header = {"Месяц": journal_rows.month_text(date_from)}
    else:  # participants-002: the group consultations' participants (`journals.sources`)
        qs = _provided(sources.PARTICIPANTS, period, consultant)
        build, extra = journal_rows.participants_row, {"service": service, "coded": coded}
        if qs is not None:
            # A registry is small (a group's participants): its consultations read from its rows.
            events = list({row["event_id"]: row for row in qs}.values())
            header = journal_rows.participants_header(events, service=service, coded=coded)
            extra["dated"] = len(events) > 1
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


def schedule_public(*, service: Any, month: dt.date) -> Journal:
    """The month's «График плановых дистанционных консультаций специалистов» (regulation 003
    Appendix 1) as the service publishes it on its site (§3.6): the approved schedules only, the
    specialists named with their positions (the form's own column; no client is in it). Read
    live, so the published page and file change as soon as an approved schedule does."""
    first = month.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    qs = journal_rows.schedule_values(service=service, date_from=first, date_to=last)
    return Journal(
        form=FORMS["schedule-003"],
        service=service,
        date_from=first,
        date_to=last,
        coded=False,
        count=qs.count(),
        rows=journal_rows.numbered(qs.iterator(chunk_size=CHUNK), journal_rows.schedule_row),
        header={"Месяц": journal_rows.month_text(first)},
    )
