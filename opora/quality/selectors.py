"""Reads of the quality evaluation: the link of a service's questionnaire, and the results —
for heads per consultant, topic, form, channel and period (audited), for a consultant only
their own aggregates and only from five responses on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from opora.core.audit import AuditEventType, audit_record
from opora.core.links import public_url
from opora.quality.models import CRITERION_FIELDS, Evaluation, QualitySettings

# A consultant sees their results only over at least this many responses (never one parent's).
CONSULTANT_MIN_RESPONSES = 5


def quality_settings_for(service: Any) -> QualitySettings:
    """The service's settings (the defaults, unsaved, when it has none)."""
    found = QualitySettings.objects.filter(service=service).first()
    return found if found is not None else QualitySettings(service=service)


def evaluation_by_token(token: str) -> Evaluation | None:
    if not token or len(token) > 64:
        return None
    return Evaluation.objects.select_related("service", "request").filter(token=token).first()


def evaluation_is_open(evaluation: Evaluation, *, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return evaluation.submitted_at is None and now < evaluation.closes_at


def evaluation_link_for_request(request: Any, *, now: dt.datetime | None = None) -> str | None:
    """The absolute address of the questionnaire of `request`'s service while it can still be
    answered (opened, not sent, the window not closed); None otherwise."""
    evaluation = Evaluation.objects.filter(request_id=getattr(request, "pk", None)).first()
    if evaluation is None or not evaluation_is_open(evaluation, now=now):
        return None
    return public_url(reverse("quality:evaluation", args=[evaluation.token]))


# --- results ------------------------------------------------------------------------------------


@dataclass
class Group:
    """The aggregates of a set of evaluations (never one parent's answers)."""

    key: str
    label: str
    offered: int = 0
    invited: int = 0
    answered: int = 0
    answered_in_time: int = 0
    sums: list[int] = field(default_factory=lambda: [0] * len(CRITERION_FIELDS))
    more_of: dict[str, int] = field(default_factory=dict)

    def add(self, e: Evaluation) -> None:
        self.offered += 1
        sent = bool(e.invite_channels)
        if sent:
            self.invited += 1
        if e.submitted_at is not None:
            self.answered += 1
            if sent and e.submitted_at <= e.closes_at:
                self.answered_in_time += 1
            for i, value in enumerate(e.scores()):
                self.sums[i] += value or 0
            if e.more_of:
                self.more_of[e.more_of] = self.more_of.get(e.more_of, 0) + 1

    @property
    def means(self) -> list[Decimal | None]:
        if not self.answered:
            return [None] * len(self.sums)
        return [(Decimal(s) / self.answered).quantize(Decimal("0.1")) for s in self.sums]

    @property
    def mean(self) -> Decimal | None:
        if not self.answered:
            return None
        total = Decimal(sum(self.sums)) / (self.answered * len(self.sums))
        return total.quantize(Decimal("0.01"))

    @property
    def response_rate(self) -> int | None:
        return round(100 * self.answered / self.offered) if self.offered else None

    @property
    def sla_rate(self) -> int | None:
        return round(100 * self.answered_in_time / self.invited) if self.invited else None


@dataclass(frozen=True)
class Comment:
    """A parent's free answers, shown to heads without the parent's name or request."""

    served_on: dt.date
    consultant: str
    impressions: str
    wishes: str


@dataclass
class Results:
    date_from: dt.date
    date_to: dt.date
    total: Group
    by: dict[str, list[Group]]
    comments: list[Comment] = field(default_factory=list)


COMMENTS_SHOWN = 100


def _period(service: Any, date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = service.tz
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def _evaluations(service: Any, date_from: dt.date, date_to: dt.date, **filters: Any) -> list:
    start, end = _period(service, date_from, date_to)
    return list(
        Evaluation.objects.filter(
            service=service, served_at__gte=start, served_at__lt=end, **filters
        )
        .select_related("consultant")
        .only(
            "pk",
            "consultant__first_name",
            "consultant__last_name",
            "consultant__patronymic",
            "consultant__username",
            "form",
            "channel",
            "topic",
            "invite_channels",
            "submitted_at",
            "closes_at",
            "more_of",
            "served_at",
            "impressions",
            "wishes",
            *CRITERION_FIELDS,
        )
        .order_by("-served_at", "-pk")
    )


def _labels() -> dict[str, Any]:
    from opora.consultations.models import Topic
    from opora.intake.models import Channel, ServiceForm

    return {"topic": Topic, "form": ServiceForm, "channel": Channel}


def _group_key(dimension: str, e: Evaluation) -> tuple[str, str]:
    from django.utils.translation import gettext as _

    if dimension == "consultant":
        if e.consultant is None:
            return "", _("Not named")
        return str(e.consultant_id), e.consultant.display_name
    value = getattr(e, dimension)
    if not value:
        return "", _("Not named")
    choices = _labels()[dimension]
    try:
        return value, str(choices(value).label)
    except ValueError:
        return value, value


DIMENSIONS = ("consultant", "topic", "form", "channel")


def _aggregate(service: Any, evaluations: list, date_from: dt.date, date_to: dt.date) -> Results:
    total = Group(key="", label="")
    by: dict[str, dict[str, Group]] = {d: {} for d in DIMENSIONS}
    for e in evaluations:
        total.add(e)
        for dimension in DIMENSIONS:
            key, label = _group_key(dimension, e)
            group = by[dimension].setdefault(key, Group(key=key, label=label))
            group.add(e)
    comments = [
        Comment(
            served_on=timezone.localtime(e.served_at, service.tz).date(),
            consultant=_group_key("consultant", e)[1],
            impressions=e.impressions,
            wishes=e.wishes,
        )
        for e in evaluations
        if e.submitted_at is not None and (e.impressions or e.wishes)
    ][:COMMENTS_SHOWN]
    return Results(
        date_from=date_from,
        date_to=date_to,
        total=total,
        by={d: sorted(groups.values(), key=lambda g: g.label) for d, groups in by.items()},
        comments=comments,
    )


@transaction.atomic
def results_for_head(*, actor: Any, service: Any, date_from: dt.date, date_to: dt.date) -> Results:
    """The service's results in the period (by the day of the service, in its zone), per
    consultant, topic, form and channel, with the response rate and the 3-day SLA. The read is
    audited (who looked at which service's results, for which period)."""
    results = _aggregate(service, _evaluations(service, date_from, date_to), date_from, date_to)
    audit_record(
        actor=actor,
        event_type=AuditEventType.QUALITY_RESULTS_VIEWED,
        subject=service,
        extra={"from": date_from.isoformat(), "to": date_to.isoformat()},
    )
    return results


@transaction.atomic
def results_for_consultant(
    *, actor: Any, service: Any, date_from: dt.date, date_to: dt.date
) -> tuple[Group | None, int]:
    """The consultant's own aggregates — (None, n) while fewer than five parents answered, so
    that no one parent's answers can be told apart."""
    evaluations = _evaluations(service, date_from, date_to, consultant=actor)
    group = Group(key=str(actor.pk), label=actor.display_name)
    for e in evaluations:
        group.add(e)
    audit_record(
        actor=actor,
        event_type=AuditEventType.QUALITY_OWN_RESULTS_VIEWED,
        subject=service,
        extra={"answered": group.answered},
    )
    if group.answered < CONSULTANT_MIN_RESPONSES:
        return None, group.answered
    return group, group.answered
