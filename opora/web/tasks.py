"""The audit log's sealer (beat entry "audit-seal", every minute) and its daily check (beat entry
"audit-verify"; both also run by `opora scheduler`): a broken chain alerts every active security
officer by e-mail."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from opora.accounts.models import Role, User
from opora.core.actors import SystemActor
from opora.core.audit import AuditEventType, audit_record
from opora.core.audit_chain import ChainReport, audit_chain_verify, audit_seal
from opora.core.links import public_url
from opora.core.models import AuditChainHead
from opora.notifications.services import notification_create

logger = logging.getLogger("opora.audit")

KIND_CHAIN_BROKEN = "audit_chain_broken"
SCHEDULER = SystemActor("scheduler")


def security_officers() -> list[User]:
    return list(User.objects.filter(role=Role.SECURITY_OFFICER, is_active=True).order_by("pk"))


@transaction.atomic
def audit_chain_check(*, report: ChainReport | None = None) -> dict[str, Any]:
    """Verify the chain; record the result; on a break, e-mail the security officers (once a
    day per break: the alert repeats every day until the chain is whole again)."""
    report = report or audit_chain_verify()
    if report.stale_unsealed:
        logger.error("audit events unsealed for too long: %s", report.stale_unsealed)
    head = AuditChainHead.objects.filter(pk=AuditChainHead.ONE).first()
    result: dict[str, Any] = {"checked": report.checked, "ok": report.ok, "alerted": 0}
    if report.broken is None:
        if head is not None:
            audit_record(
                actor=SCHEDULER,
                event_type=AuditEventType.AUDIT_CHAIN_VERIFIED,
                subject=head,
                extra={"checked": report.checked, "last_seq": report.last_seq},
            )
        return result
    broken = report.broken
    logger.error("audit chain broken: %s", broken)
    officers = [u for u in security_officers() if u.email]
    today = timezone.localdate().isoformat()
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("The audit log has been tampered with")
        body = "\n".join(
            [
                _("The daily check of the audit log found the chain broken at %(where)s.")
                % {"where": str(broken)},
                _("Entries before it are intact: %(count)s.") % {"count": report.checked},
                _("Check it again with the command: opora verify_audit"),
                _("Audit log: %(url)s") % {"url": public_url(reverse("audit_log"))},
            ]
        )
    for officer in officers:
        notification_create(
            channel="email",
            recipient=officer.email,
            subject=subject,
            body=body,
            kind=KIND_CHAIN_BROKEN,
            copy_to_messengers=False,
            dedupe_key=f"{KIND_CHAIN_BROKEN}:{today}:{broken.seq}:{broken.kind}:{officer.pk}",
        )
    if not officers:
        logger.error("audit chain broken and no active security officer with an e-mail to alert")
    result["alerted"] = len(officers)
    if head is not None:
        audit_record(
            actor=SCHEDULER,
            event_type=AuditEventType.AUDIT_CHAIN_BROKEN,
            subject=head,
            extra={
                "seq": broken.seq,
                "event_id": broken.event_id,
                "kind": broken.kind,
                "officers": len(officers),
            },
        )
    return result


@shared_task(name="opora.web.tasks.verify_audit_chain")
def verify_audit_chain() -> dict[str, Any]:
    # Sealing first, outside the check's transaction: the head's lock is held only briefly.
    return audit_chain_check(report=audit_chain_verify())


@shared_task(name="opora.web.tasks.alert_breach_deadlines")
def alert_breach_deadlines() -> dict[str, Any]:
    from opora.web.breaches import breach_alerts_send

    return {"alerted": breach_alerts_send()}


@shared_task(name="opora.web.tasks.seal_audit_events")
def seal_audit_events() -> dict[str, Any]:
    return {"sealed": audit_seal()}
