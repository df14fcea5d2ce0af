"""The personal-data breach register (issue 15): register and update a breach, record the notices
sent to the authorities, compute each jurisdiction's deadlines, and alert the security officers
before each deadline (beat entry "breach-deadlines"; once per deadline and stage).

Deadlines, from the moment of detection:
- RU (152-FZ art. 21 §3.1): notify Roskomnadzor within 24 hours; the results of the internal
  investigation within 72 hours.
- KZ (Law No. 94-V art. 20-1): notify the authorised body within one working day — by the end of
  the next working day of the service's calendar (its time zone, holidays and transfers).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opora.accounts.actors import Actor
from opora.accounts.models import User
from opora.accounts.policy import Action, require
from opora.core import locks
from opora.core.actors import SystemActor
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError, PermissionDenied
from opora.core.links import public_url
from opora.core.models import Breach, BreachAlert, Service
from opora.notifications.services import notification_create
from opora.scheduling.calendar import ServiceCalendar

JURISDICTIONS = {"RU": gettext_lazy("Russia (Roskomnadzor)"), "KZ": gettext_lazy("Kazakhstan")}
# How long before a deadline the officers are alerted.
ALERT_BEFORE = dt.timedelta(hours=6)
KIND_BREACH_DEADLINE = "breach_deadline"
SCHEDULER = SystemActor("scheduler")


@dataclass(frozen=True)
class Deadline:
    key: str  # ru_notice, ru_results, kz_notice
    label: str
    due_at: dt.datetime
    done_at: dt.datetime | None

    def state(self, now: dt.datetime) -> str:
        if self.done_at is not None:
            return "done"
        if now > self.due_at:
            return "overdue"
        if now >= self.due_at - ALERT_BEFORE:
            return "soon"
        return "pending"

    def remaining(self, now: dt.datetime) -> dt.timedelta:
        return self.due_at - now


def _kz_due(breach: Breach) -> dt.datetime:
    """The end of the next working day after the detection's local date."""
    service = breach.service
    if service is None:
        return breach.detected_at + dt.timedelta(hours=24)
    tz = service.tz
    local = breach.detected_at.astimezone(tz).date()
    day = ServiceCalendar(service).add_working_days(local, 1)
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)


def breach_deadlines(breach: Breach) -> list[Deadline]:
    """Every deadline of the breach's jurisdictions, soonest first."""
    out: list[Deadline] = []
    if "RU" in breach.jurisdictions:
        out.append(
            Deadline(
                "ru_notice",
                _("Notify Roskomnadzor (24 hours)"),
                breach.detected_at + dt.timedelta(hours=24),
                breach.ru_notified_at,
            )
        )
        out.append(
            Deadline(
                "ru_results",
                _("Send Roskomnadzor the investigation's results (72 hours)"),
                breach.detected_at + dt.timedelta(hours=72),
                breach.ru_results_at,
            )
        )
    if "KZ" in breach.jurisdictions:
        out.append(
            Deadline(
                "kz_notice",
                _("Notify the authorised body (one working day)"),
                _kz_due(breach),
                breach.kz_notified_at,
            )
        )
    return sorted(out, key=lambda d: d.due_at)


def _clean(
    *, jurisdictions: list[str], data_kinds: str, description: str, actions: str
) -> tuple[list[str], str, str, str]:
    chosen = sorted({j for j in jurisdictions if j in JURISDICTIONS})
    if not chosen:
        raise DomainError(_("Choose at least one jurisdiction."), code="breach_jurisdiction")
    if not data_kinds.strip():
        raise DomainError(_("Say which kinds of data were affected."), code="breach_data_kinds")
    if not description.strip():
        raise DomainError(_("Describe what happened."), code="breach_description")
    # Control characters and lengths are checked at the input boundary (forms, middleware).
    return chosen, data_kinds.strip()[:500], description.strip()[:4000], actions.strip()[:4000]


@transaction.atomic
def breach_register(
    *,
    actor: Actor,
    detected_at: dt.datetime,
    jurisdictions: list[str],
    data_kinds: str,
    affected_count: int,
    description: str,
    actions: str = "",
    service: Service | None = None,
) -> Breach:
    """Register a breach (the security officer); audited without its texts."""
    require(actor, Action.BREACH_MANAGE)
    if detected_at > timezone.now() + dt.timedelta(minutes=5):
        raise DomainError(_("The detection time cannot be in the future."), code="breach_future")
    chosen, data_kinds, description, actions = _clean(
        jurisdictions=jurisdictions, data_kinds=data_kinds, description=description, actions=actions
    )
    breach = Breach(
        service=service,
        detected_at=detected_at,
        jurisdictions=chosen,
        data_kinds=data_kinds,
        affected_count=affected_count,
        description=description,
        actions=actions,
        registered_by=actor if isinstance(actor, User) else None,
    )
    breach.full_clean()
    breach.save()
    audit_record(
        actor=actor,
        event_type=AuditEventType.BREACH_REGISTERED,
        subject=breach,
        extra={"jurisdictions": chosen, "affected_count": affected_count},
    )
    return breach


NOTICE_FIELDS = {
    "ru_notice": "ru_notified_at",
    "ru_results": "ru_results_at",
    "kz_notice": "kz_notified_at",
}


@transaction.atomic
def breach_update(
    *,
    actor: Actor,
    breach: Breach,
    actions: str | None = None,
    notices: list[str] | None = None,
    close: bool = False,
) -> Breach:
    """Add the actions taken, record the notices sent now (by deadline key), or close it."""
    require(actor, Action.BREACH_MANAGE)
    locked = locks.breach_qs_select_for_update().get(pk=breach.pk)
    changed: list[str] = []
    if actions is not None and actions.strip() != locked.actions:
        locked.actions = actions.strip()[:4000]
        changed.append("actions")
    now = timezone.now()
    keys = {d.key for d in breach_deadlines(locked)}
    for key in notices or []:
        field = NOTICE_FIELDS.get(key)
        if field is None or key not in keys:
            raise DomainError(_("No such notice for this breach."), code="breach_notice")
        if getattr(locked, field) is None:
            setattr(locked, field, now)
            changed.append(field)
    if close and locked.status != Breach.Status.CLOSED:
        locked.status = Breach.Status.CLOSED
        changed.append("status")
    if changed:
        locked.full_clean()
        locked.save(update_fields=changed)
        audit_record(
            actor=actor,
            event_type=AuditEventType.BREACH_UPDATED,
            subject=locked,
            extra={"fields": sorted(changed)},
        )
    return locked


def _officers() -> list[User]:
    from opora.web.tasks import security_officers

    return [u for u in security_officers() if u.email]


def breach_alerts_send(*, now: dt.datetime | None = None) -> int:
    """Alert the security officers of every open breach's deadline that is near (`soon`) or past
    (`overdue`) and not met; each (breach, deadline, stage) once. Returns the alerts sent."""
    now = now or timezone.now()
    sent = 0
    for breach in Breach.objects.filter(status=Breach.Status.OPEN).select_related("service"):
        for deadline in breach_deadlines(breach):
            stage = deadline.state(now)
            if stage not in ("soon", "overdue"):
                continue
            with transaction.atomic():
                alert, created = BreachAlert.objects.get_or_create(
                    breach=breach, deadline=deadline.key, stage=stage
                )
                if not created:
                    continue
                officers = _officers()
                _alert(breach, deadline, stage, officers, now)
                alert.recipients = len(officers)
                alert.save(update_fields=["recipients"])
                audit_record(
                    actor=SCHEDULER,
                    event_type=AuditEventType.BREACH_ALERTED,
                    subject=breach,
                    extra={"deadline": deadline.key, "stage": stage, "officers": len(officers)},
                )
                sent += 1
    return sent


def _alert(
    breach: Breach, deadline: Deadline, stage: str, officers: list[User], now: dt.datetime
) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        subject = (
            _("Breach No. %(num)s: a notification deadline has passed")
            if stage == "overdue"
            else _("Breach No. %(num)s: a notification deadline is near")
        ) % {"num": breach.pk}
        body = "\n".join(
            [
                str(deadline.label),
                _("Due: %(when)s (UTC)") % {"when": deadline.due_at.strftime("%d.%m.%Y %H:%M")},
                _("Breach register: %(url)s")
                % {"url": public_url(reverse("breach_detail", args=[breach.pk]))},
            ]
        )
    for officer in officers:
        notification_create(
            channel="email",
            recipient=officer.email,
            subject=subject,
            body=body,
            kind=KIND_BREACH_DEADLINE,
            about=breach,
            copy_to_messengers=False,
            dedupe_key=f"{KIND_BREACH_DEADLINE}:{breach.pk}:{deadline.key}:{stage}:{officer.pk}",
        )


def breach_list() -> list[Breach]:
    return list(Breach.objects.select_related("service").order_by("-detected_at", "-pk"))


def breach_get(pk: int) -> Breach | None:
    return Breach.objects.select_related("service").filter(pk=pk).first()


def deadline_rows(breach: Breach, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    now = now or timezone.now()
    return [
        {
            "d": d,
            "state": d.state(now),
            "remaining_minutes": int(d.remaining(now).total_seconds() // 60),
        }
        for d in breach_deadlines(breach)
    ]


def _at(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _deadline_text(d: Deadline, now: dt.datetime) -> str:
    """As the pages say it: "<label>: due <when>", then "done <when>" or "overdue"."""
    text = f"{d.label}: " + _("due %(when)s") % {"when": _at(d.due_at)}
    state = d.state(now)
    if state == "done":
        text += " — " + _("done %(when)s") % {"when": _at(d.done_at)}
    elif state == "overdue":
        text += " — " + _("overdue")
    return text


def breach_register_export(*, actor: Actor) -> tuple[list[str], list[list[Any]]]:
    """The register as a table (columns, rows) for the CSV download; the export is audited
    with the number of rows only. The register holds no names or IINs by design; its texts are
    the officer's own, written as plain cells by `core.exports.csv_cell`."""
    require(actor, Action.BREACH_VIEW)
    if not isinstance(actor, User):
        raise PermissionDenied(_("Only staff may export the breach register."))
    now = timezone.now()
    columns = [
        _("No."),
        _("Detected"),
        _("Status"),
        _("Jurisdictions"),
        _("Service"),
        _("Kinds of data affected"),
        _("People affected (estimate)"),
        _("What happened"),
        _("Actions taken"),
        _("Deadlines"),
    ]
    rows: list[list[Any]] = []
    for breach in breach_list():
        deadlines = "; ".join(_deadline_text(d, now) for d in breach_deadlines(breach))
        rows.append(
            [
                breach.pk,
                _at(breach.detected_at),
                str(breach.get_status_display()),
                ", ".join(breach.jurisdictions),
                breach.service.name if breach.service else "",
                breach.data_kinds,
                breach.affected_count,
                breach.description,
                breach.actions,
                deadlines,
            ]
        )
    with transaction.atomic():
        audit_record(
            actor=actor,
            event_type=AuditEventType.BREACH_REGISTER_EXPORTED,
            subject=actor,
            extra={"rows": len(rows)},
        )
    return columns, rows
