"""Reads of the 1411 chain for an actor: who sees which report, deadlines and overdue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from opora.accounts import policy as access_policy
from opora.accounts.models import Role, User
from opora.accounts.policy import Action
from opora.core.errors import NotFound
from opora.core.models import Service
from opora.reports.figures import next_month
from opora.reports.kinds import KINDS, SCHEDULE_DUE_DAY, due_date
from opora.reports.models import Report

SENT_STATES = (Report.State.SENT, Report.State.CONFIRMED, Report.State.DISPUTED)


def _sees_all(actor: User) -> bool:
    return access_policy.sees_every_service(actor)


def services_of(actor: User) -> QuerySet[Service]:
    """The services whose chain the actor's organisation is part of (any side)."""
    qs = Service.objects.filter(is_active=True).select_related(
        "intake_organisation", "provider_organisation", "authority"
    )
    if _sees_all(actor):
        return qs.order_by("name")
    org = actor.organisation_id
    if org is None:
        return qs.none()
    return qs.filter(
        Q(intake_organisation=org) | Q(provider_organisation=org) | Q(authority=org)
    ).order_by("name")


def reports_visible(actor: User) -> QuerySet[Report]:
    """What the sender wrote (drafts included) and what was sent to the actor's organisation."""
    qs = Report.objects.select_related("service", "organisation_from", "organisation_to")
    if _sees_all(actor):
        return qs
    org = actor.organisation_id
    if org is None:
        return qs.none()
    if not access_policy.can(actor, Action.REPORT_SIGN):  # the receiver only (the authority)
        return qs.filter(organisation_to=org, state__in=SENT_STATES)
    return qs.filter(Q(organisation_from=org) | Q(organisation_to=org, state__in=SENT_STATES))


def access_report(actor: User, report_id: int) -> Report:
    report = reports_visible(actor).filter(pk=report_id).first()
    if report is None:
        raise NotFound(_("No such report, or it is not yours to see."))
    return report


def sees_requests(actor: User, report: Report) -> bool:
    """The discrepancies name requests (by number): for the two organisations, not the authority."""
    return (
        access_policy.can(
            actor, Action.REPORT_SIGN
        )  # a side's responsible person, not the authority
        and report.organisation_to_id != report.service.authority_id
    )


@dataclass(frozen=True)
class Deadline:
    service: Service
    kind: str
    title: Any
    month: dt.date
    due: dt.date
    report: Report | None  # the latest version
    overdue: bool
    done: bool


def deadlines(*, actor: User, month: dt.date, today: dt.date) -> list[Deadline]:
    """The four forms of `month` for every service of the actor: due date, latest state, overdue
    (not sent by the due date). Heads and the authority see them all; the figures stay behind the
    access of each report."""
    month = month.replace(day=1)
    services = list(services_of(actor))
    latest: dict[tuple[int, str], Report] = {}
    for version in Report.objects.filter(service__in=services, month=month).order_by("version"):
        latest[(version.service_id, version.kind)] = version
    out = []
    for service in services:
        for kind, spec in KINDS.items():
            if getattr(service, spec.receiver) is None:
                continue
            report = latest.get((service.pk, kind))
            due = due_date(kind, month)
            done = report is not None and report.state in SENT_STATES
            sent_late = (
                done
                and report is not None
                and report.sent_at is not None
                and report.sent_at.date() > due
            )
            out.append(
                Deadline(
                    service=service,
                    kind=kind,
                    title=spec.title,
                    month=month,
                    due=due,
                    report=report,
                    overdue=(not done and today > due) or sent_late,
                    done=done,
                )
            )
    return out


@dataclass(frozen=True)
class ScheduleDeadline:
    service: Service
    month: dt.date
    due: dt.date
    consultants: int
    submitted: int
    approved: int
    overdue: bool


def schedule_deadlines(*, actor: User, today: dt.date) -> list[ScheduleDeadline]:
    """The consultants' schedules of next month, due by the 25th (regulation 001), per service:
    how many consultants, how many schedules submitted or approved (one aggregate query)."""
    from opora.scheduling.models import Schedule

    month = next_month(today)
    due = today.replace(day=SCHEDULE_DUE_DAY)
    services = list(services_of(actor))
    consultants = dict(
        User.objects.filter(services__in=services, role=Role.CONSULTANT, is_active=True)
        .values("services")
        .annotate(n=Count("pk", distinct=True))
        .values_list("services", "n")
    )
    counts = {
        row["service"]: row
        for row in Schedule.objects.filter(service__in=services, month=month)
        .values("service")
        .annotate(
            submitted=Count("pk", filter=Q(status__in=["submitted", "approved"])),
            approved=Count("pk", filter=Q(status="approved")),
        )
    }
    out = []
    for service in services:
        row = counts.get(service.pk, {"submitted": 0, "approved": 0})
        n = consultants.get(service.pk, 0)
        out.append(
            ScheduleDeadline(
                service=service,
                month=month,
                due=due,
                consultants=n,
                submitted=row["submitted"],
                approved=row["approved"],
                overdue=today > due and row["submitted"] < n,
            )
        )
    return out


def versions_of(report: Report, actor: User) -> list[Report]:
    return list(
        reports_visible(actor)
        .filter(service=report.service_id, kind=report.kind, month=report.month)
        .order_by("-version")
    )
