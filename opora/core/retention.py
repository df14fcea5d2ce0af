"""Retention: each kind of record is kept for its term, then anonymised or deleted.

The terms are `RetentionRule` rows (per service, or a default for every service) over the
settings' defaults (`OPORA_RETENTION_DAYS`, kind → days). The apps that own the records register
a purger for their kind from their `AppConfig.ready` (core imports no app; a kind may have several
purgers, one per app holding a part of it, run in the order registered): a purger takes a
service, a cut-off moment, a batch size and `dry_run`, handles at most one batch of records older
than the cut-off that still hold what the term covers, and returns how many it handled (in a dry
run: how many it would). What reports count stays: rows keep their dates, kinds and statuses;
only personal fields, texts and media go. A handled record no longer matches, so the job is
idempotent and safe to re-run after an interruption.

`retention_run` (beat entry "retention", daily; `opora retention_run [--dry-run]`) runs every
purger for every service in batches and writes one audit event per service and kind with the
count only (the rows every purger of the kind handled, summed).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from opora.core.actors import SystemActor
from opora.core.audit import AuditEventType, audit_record
from opora.core.models import RetentionKind, RetentionRule, Service

logger = logging.getLogger("opora.retention")

Purger = Callable[[Service, dt.datetime, int, bool], int]

_PURGERS: dict[str, list[Purger]] = {}

BATCH_SIZE = 500
RETENTION_ACTOR = SystemActor("retention")


def register(kind: str, purger: Purger) -> None:
    """Register a purger of `kind` (from the owning app's `ready`); registering the same purger
    again changes nothing."""
    if kind not in RetentionKind.values:
        raise ValueError(f"unknown retention kind: {kind}")
    purgers = _PURGERS.setdefault(kind, [])
    if purger not in purgers:
        purgers.append(purger)


def registered_kinds() -> list[str]:
    return sorted(_PURGERS)


def term_days(service: Service, kind: str) -> int | None:
    """The service's term for `kind` in days: its own rule, the default rule, the setting."""
    rules = {
        r.service_id: r.days
        for r in RetentionRule.objects.filter(
            Q(service=service) | Q(service__isnull=True), kind=kind
        )
    }
    if service.pk in rules:
        return rules[service.pk]
    if None in rules:
        return rules[None]
    days = (getattr(settings, "OPORA_RETENTION_DAYS", {}) or {}).get(kind)
    return int(days) if days else None


@dataclass
class RetentionResult:
    service: str
    kind: str
    days: int
    handled: int


def retention_run(
    *, now: dt.datetime | None = None, dry_run: bool = False, batch_size: int = BATCH_SIZE
) -> list[RetentionResult]:
    """Apply every term to every service; returns what was (or would be) handled, per pair."""
    now = now or timezone.now()
    results: list[RetentionResult] = []
    for service in Service.objects.order_by("pk"):
        for kind in registered_kinds():
            days = term_days(service, kind)
            if days is None:
                continue
            cutoff = now - dt.timedelta(days=days)
            handled = 0
            for purger in _PURGERS[kind]:
                if dry_run:
                    handled += purger(service, cutoff, 0, True)
                    continue
                while True:
                    with transaction.atomic():
                        n = purger(service, cutoff, batch_size, False)
                    handled += n
                    if n < batch_size:
                        break
            if handled and not dry_run:
                with transaction.atomic():
                    audit_record(
                        actor=RETENTION_ACTOR,
                        event_type=AuditEventType.RETENTION_APPLIED,
                        subject=service,
                        extra={"kind": kind, "days": days, "count": handled},
                    )
            results.append(RetentionResult(service.code, kind, days, handled))
    logger.info(
        "retention %s: %s",
        "dry run" if dry_run else "run",
        {f"{r.service}:{r.kind}": r.handled for r in results if r.handled},
    )
    return results
