"""The row locks of core, in one place (every `select_for_update` of the app is here)."""

from __future__ import annotations

from django.db.models import QuerySet

from opora.core.models import AuditChainHead


def audit_chain_head_qs_select_for_update() -> QuerySet[AuditChainHead]:
    """The audit chain's one head row: whoever appends an event holds it until their transaction
    ends, so events are numbered and chained one writer at a time (on SQLite the write lock
    taken at BEGIN does the same)."""
    return AuditChainHead.objects.select_for_update()
