"""The row locks of core, in one place (every `select_for_update` of the app is here)."""

from __future__ import annotations

from django.db.models import QuerySet

from opora.core.models import AuditChainHead, Breach


def audit_chain_head_qs_select_for_update() -> QuerySet[AuditChainHead]:
    """The audit chain's one head row: the sealer (`core.audit_chain.audit_seal`) holds it for
    its short transaction, so two sealers never number the same events (on SQLite the write lock
    taken at BEGIN does the same). Writers of events never take it."""
    return AuditChainHead.objects.select_for_update()


def breach_qs_select_for_update() -> QuerySet[Breach]:
    """A breach of the register while the security officer records actions, notices or its
    closing (`web.breaches.breach_update`): two officers' updates take their turn."""
    return Breach.objects.select_for_update()
