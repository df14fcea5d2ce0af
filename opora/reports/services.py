"""Writes of the 1411 chain: draft → signed → sent → confirmed | disputed; a correction is a new
version. Only these functions change a report, and none of them changes one past draft."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from opora.accounts import policy as access_policy
from opora.accounts.actors import Actor
from opora.accounts.models import User
from opora.accounts.policy import Action
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import Conflict, DomainError, PermissionDenied
from opora.core.models import Organisation, Service
from opora.notifications.models import Notification
from opora.notifications.services import notification_create
from opora.reports import rollup
from opora.reports.figures import figures_session
from opora.reports.kinds import KINDS, due_date
from opora.reports.models import Report
from opora.scheduling.calendar import local_now

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ReportLocked(DomainError):
    code = "report_locked"
    http_status = 409


def parse_month(value: str | None, *, service: Service) -> dt.date:
    """`YYYY-MM` → the first day of that month; a message naming the problem otherwise."""
    value = (value or "").strip()
    try:
        month = dt.datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007 - a calendar month
    except ValueError:
        raise DomainError(
            _("“%(value)s” is not a month: write it as YYYY-MM, e.g. 2026-03.")
            % {"value": value[:20]},
            code="bad_month",
        ) from None
    if month > local_now(service).date().replace(day=1):
        raise DomainError(
            _("The month %(month)s has not begun yet: there is nothing to report.")
            % {"month": f"{month:%m.%Y}"},
            code="month_not_begun",
        )
    return month


def organisations(service: Service, kind: str) -> tuple[Organisation, Organisation]:
    spec = KINDS[kind]
    sender = getattr(service, spec.sender)
    receiver = getattr(service, spec.receiver)
    if sender is None or receiver is None:
        raise DomainError(
            _("The service has no organisation for this report (set its authority)."),
            code="no_organisation",
        )
    return sender, receiver


def is_responsible(actor: Actor, report: Report) -> bool:
    """The responsible person of the sending side (regulation 000 §21–23: its coordinator or
    head): the policy's `report.sign`, and the record rule — of the sending organisation."""
    return bool(
        access_policy.can(actor, Action.REPORT_SIGN)
        and isinstance(actor, User)
        and actor.organisation_id == report.organisation_from_id
    )


def is_receiver(actor: Actor, report: Report) -> bool:
    """The policy's `report.answer`, and the record rule — of the receiving organisation."""
    return bool(
        access_policy.can(actor, Action.REPORT_ANSWER)
        and isinstance(actor, User)
        and actor.organisation_id == report.organisation_to_id
    )


def compute_figures(*, service: Service, kind: str, month: dt.date) -> dict[str, Any]:
    """The snapshot stored in a draft: totals, breakdowns, and (between the two organisations)
    the discrepancies of handed over against served — read from the month's stored figures
    (`reports.rollup`), recomputed first unless clean, so always those of the live aggregation."""
    spec = KINDS[kind]
    pairs = not spec.coded  # the discrepancies: between the two organisations only
    if rollup.is_clean(service, month):
        rows = rollup.stored(service, month, pairs=pairs)
    else:
        with figures_session():  # one transaction: the figures read are those just made current
            rollup.recount(service, month)
            rows = rollup.stored(service, month, pairs=pairs)
    labels = rollup.labels_of(rows, coded=spec.coded)
    figures = rollup.measure_figures(rows, spec.measure, coded=spec.coded, labels=labels)
    if not spec.coded:
        figures["discrepancies"] = rollup.discrepancies(rows, labels)
    figures["computed_at"] = timezone.now().isoformat()
    return figures


def _latest(service: Service, kind: str, month: dt.date) -> Report | None:
    return (
        Report.objects.filter(service=service, kind=kind, month=month).order_by("-version").first()
    )


@transaction.atomic
def report_draft(
    *, service: Service, kind: str, month: dt.date, actor: User | None = None
) -> Report:
    """Draft the report of `month` (or refresh the figures of its draft). A signed report is not
    touched: correct it with `report_correct`."""
    if kind not in KINDS:
        raise DomainError(_("Unknown report form “%(kind)s”.") % {"kind": kind}, code="bad_kind")
    month = month.replace(day=1)
    sender, receiver = organisations(service, kind)
    if actor is not None and not (
        access_policy.can(actor, Action.REPORT_SIGN) and actor.organisation_id == sender.pk
    ):
        raise PermissionDenied(
            _("Only the coordinator or head of the sending organisation may draft this report.")
        )
    latest = _latest(service, kind, month)
    if latest is not None and latest.state != Report.State.DRAFT:
        raise ReportLocked(
            _(
                "Version %(version)d of this report is signed and can't be edited; make a correction."
            )
            % {"version": latest.version}
        )
    report = latest or Report(
        service=service, kind=kind, month=month, organisation_from=sender, organisation_to=receiver
    )
    report.figures = compute_figures(service=service, kind=kind, month=month)
    report.drafted_at = timezone.now()
    report.full_clean(validate_constraints=False, validate_unique=False)
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        raise Conflict(_("The report is being drafted by someone else; reload the page.")) from None
    audit_record(
        actor=actor,
        event_type=AuditEventType.REPORT_DRAFTED,
        subject=report,
        extra={"kind": kind, "month": f"{month:%Y-%m}", "version": report.version},
    )
    return report


def _locked(report: Report) -> Report:
    from opora.reports import locks

    return locks.report_qs_select_for_update().get(pk=report.pk)


@transaction.atomic
def report_sign(*, report: Report, actor: User) -> Report:
    """The responsible person signs the draft: from now on it never changes."""
    report = _locked(report)
    if not is_responsible(actor, report):
        raise PermissionDenied(
            _("Only the coordinator or head of the sending organisation may sign this report.")
        )
    if report.state != Report.State.DRAFT:
        raise ReportLocked(_("This report is already signed."))
    report.state = Report.State.SIGNED
    report.signed_by = actor
    report.signed_at = timezone.now()
    report.save(update_fields=["state", "signed_by", "signed_at"])
    audit_record(
        actor=actor,
        event_type=AuditEventType.REPORT_SIGNED,
        subject=report,
        extra={"kind": report.kind, "version": report.version},
    )
    return report


@transaction.atomic
def report_send(*, report: Report, actor: User) -> Report:
    """Send the signed report: an e-mail with the XLSX through the outbox (delivered after commit)
    and the report in the receiving organisation's list."""
    from opora.reports.documents import report_filename, report_xlsx

    report = _locked(report)
    if not is_responsible(actor, report):
        raise PermissionDenied(
            _("Only the coordinator or head of the sending organisation may send this report.")
        )
    if report.state != Report.State.SIGNED:
        raise ReportLocked(_("Only a signed report that has not been sent can be sent."))
    receiver = report.organisation_to
    report.state = Report.State.SENT
    report.sent_at = timezone.now()
    if receiver.email:
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Report %(kind)s for %(month)s, version %(version)d") % {
                "kind": report.kind,
                "month": f"{report.month:%m.%Y}",
                "version": report.version,
            }
            body = _(
                "%(sender)s sends report %(kind)s for %(month)s. The file is attached; confirm or "
                "dispute it in Opora."
            ) % {
                "sender": str(report.organisation_from),
                "kind": report.kind,
                "month": f"{report.month:%m.%Y}",
            }
        report.notification = notification_create(
            channel=Notification.Channel.EMAIL,
            recipient=receiver.email,
            subject=subject[:200],
            body=body,
            kind="report",
            about=report,
            attachments=[(report_filename(report, "xlsx"), report_xlsx(report), XLSX_MIME)],
            dedupe_key=f"report:{report.pk}",
            copy_to_messengers=False,
        )
    report.save(update_fields=["state", "sent_at", "notification"])
    audit_record(
        actor=actor,
        event_type=AuditEventType.REPORT_SENT,
        subject=report,
        extra={"kind": report.kind, "version": report.version, "mailed": bool(receiver.email)},
    )
    return report


@transaction.atomic
def report_answer(*, report: Report, actor: User, confirm: bool, comment: str = "") -> Report:
    """The receiver confirms the report or disputes it (a dispute says why)."""
    report = _locked(report)
    if not is_receiver(actor, report):
        raise PermissionDenied(_("Only the receiving organisation may answer this report."))
    if report.state != Report.State.SENT:
        raise ReportLocked(_("This report has been answered already, or has not been sent."))
    comment = comment.strip()
    if not confirm and not comment:
        raise DomainError(_("Say what is wrong with the report."), code="comment_required")
    report.state = Report.State.CONFIRMED if confirm else Report.State.DISPUTED
    report.answered_by = actor
    report.answered_at = timezone.now()
    report.answer_comment = comment[:2000]
    report.save(update_fields=["state", "answered_by", "answered_at", "answer_comment"])
    audit_record(
        actor=actor,
        event_type=AuditEventType.REPORT_ANSWERED,
        subject=report,
        extra={"kind": report.kind, "version": report.version, "state": report.state},
    )
    return report


@transaction.atomic
def report_correct(*, report: Report, actor: User, reason: str) -> Report:
    """A correction of a signed report: a new draft version with its reason; the signed one stays."""
    report = _locked(report)
    if not is_responsible(actor, report):
        raise PermissionDenied(
            _("Only the coordinator or head of the sending organisation may correct this report.")
        )
    if report.state == Report.State.DRAFT:
        raise DomainError(
            _("A draft is edited by drafting it again, not corrected."), code="is_draft"
        )
    if hasattr(report, "replaced_by"):
        raise ReportLocked(_("This version has been corrected already; correct the latest one."))
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Give the reason for the correction."), code="reason_required")
    new = Report(
        service=report.service,
        kind=report.kind,
        month=report.month,
        version=report.version + 1,
        organisation_from=report.organisation_from,
        organisation_to=report.organisation_to,
        replaces=report,
        reason=reason[:2000],
        figures=compute_figures(service=report.service, kind=report.kind, month=report.month),
        drafted_at=timezone.now(),
    )
    new.save()
    audit_record(
        actor=actor,
        event_type=AuditEventType.REPORT_CORRECTED,
        subject=new,
        extra={"kind": new.kind, "version": new.version, "replaces": report.version},
    )
    return new


def reports_draft_previous_month(*, now: dt.datetime | None = None) -> list[int]:
    """The 1st of the month: a draft of every form of the previous month for every service that
    has the organisations of the chain (idempotent: a signed report is left alone)."""
    made = []
    for service in Service.objects.filter(is_active=True, authority__isnull=False).select_related(
        "intake_organisation", "provider_organisation", "authority"
    ):
        today = local_now(service, now).date()
        month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        for kind in KINDS:
            latest = _latest(service, kind, month)
            if latest is not None and latest.state != Report.State.DRAFT:
                continue
            made.append(report_draft(service=service, kind=kind, month=month).pk)
    return made


__all__ = [
    "ReportLocked",
    "compute_figures",
    "due_date",
    "is_receiver",
    "is_responsible",
    "parse_month",
    "report_answer",
    "report_correct",
    "report_draft",
    "report_send",
    "report_sign",
    "reports_draft_previous_month",
]
