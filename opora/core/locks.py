"""The row locks of core, in one place (every `select_for_update` of the app is here)."""

from __future__ import annotations

from django.db.models import QuerySet

from opora.core.models import AuditChainHead


def audit_chain_head_qs_select_for_update() -> QuerySet[AuditChainHead]:
    """The audit chain's one head row: the sealer (`core.audit_chain.audit_seal`) holds it for
    its short transaction, so two sealers never number the same events (on SQLite the write lock
    taken at BEGIN does the same). Writers of events never take it."""
    return AuditChainHead.objects.select_for_update()
