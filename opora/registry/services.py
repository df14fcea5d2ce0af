"""Writes of the registry domain: eligibility checks (regulation 001 §3) and registry imports."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.accounts.actors import Actor, User
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError
from opora.core.limits import max_length
from opora.core.models import Service
from opora.registry.adapters import RegistryEntry, get_registry_adapter
from opora.registry.iin import validate_iin
from opora.registry.importer import MAX_STORED_ERRORS, ImportFailed, ImportStats, load_file
from opora.registry.models import EligibilityCheck, ImportRun, RegistrySource
from opora.registry.names import names_match
from opora.registry.scripts import eligibility_script

logger = logging.getLogger(__name__)

Reason = EligibilityCheck.Reason
KZ_TZ = zoneinfo.ZoneInfo("Asia/Almaty")
_FULL_NAME_MAX = max_length(EligibilityCheck, "full_name")


@dataclass(frozen=True)
class EligibilityResult:
    eligible: bool
    reason: str  # EligibilityCheck.Reason value
    message: str  # the scripted answer the operator reads to the caller, translated
    check: EligibilityCheck
    child_iin: str = ""


@dataclass(frozen=True)
class _Decision:
    reason: str
    entry: RegistryEntry | None = None
    child_iin: str = ""

    @property
    def eligible(self) -> bool:
        return self.reason in (Reason.ELIGIBLE_CBD, Reason.ELIGIBLE_CBDI)


def _matches(full_name: str, entry: RegistryEntry) -> bool:
    return names_match(
        full_name,
        last_name=entry.last_name,
        first_name=entry.first_name,
        patronymic=entry.patronymic,
    )


def _decide(*, iin: str, full_name: str, entries: list[RegistryEntry], today: dt.date) -> _Decision:
    """The rules of regulation 001 §3.3–3.4 over every registry entry tied to `iin`.

    Only entries whose own person matches the caller's name count, so a caller is never made
    eligible by somebody else's record (e.g. the other parent's active benefit).
    """
    if not entries:
        return _Decision(Reason.NOT_REGISTERED)

    # ЦБД rows name the benefit recipient, whether `iin` is theirs or their child's.
    cbd = [e for e in entries if e.source == RegistrySource.CBD and _matches(full_name, e)]
    # (a) the caller's own IIN as an active recipient; (b) the child's IIN on an active recipient row.
    for e in cbd:
        if e.status == "active" and e.iin == iin:
            return _Decision(Reason.ELIGIBLE_CBD, e, e.child_iin)
    for e in cbd:
        if e.status == "active" and e.child_iin == iin:
            return _Decision(Reason.ELIGIBLE_CBD, e, iin)

    # (c) a child with disability in ЦБДИ whose own record matches the caller's name (§3.4 "ФИО
    # совпадает с данными, указанными в ЦБД/ЦБДИ").
    cbdi = [
        e
        for e in entries
        if e.source == RegistrySource.CBDI and e.iin == iin and _matches(full_name, e)
    ]
    valid = [e for e in cbdi if e.valid_until is None or e.valid_until >= today]
    if valid:
        return _Decision(Reason.ELIGIBLE_CBDI, valid[0], iin)
    if cbdi:
        return _Decision(Reason.DISABILITY_EXPIRED, cbdi[0], iin)
    if cbd:
        # Every matching ЦБД row is inactive.
        e = cbd[0]
        return _Decision(Reason.INACTIVE, e, e.child_iin if e.iin == iin else iin)
    return _Decision(Reason.NAME_MISMATCH)


def _clean_full_name(full_name: str) -> str:
    cleaned = " ".join((full_name or "").split())
    if not cleaned:
        raise DomainError(_("Enter the caller's full name."), code="full_name_required")
    if len(cleaned) > _FULL_NAME_MAX:
        raise DomainError(
            _("The full name is too long (at most %(max)d characters).") % {"max": _FULL_NAME_MAX},
            code="full_name_too_long",
        )
    return cleaned


@transaction.atomic
def eligibility_check(
    *, actor: Actor | None, service: Service | None, iin: str, full_name: str
) -> EligibilityResult:
    """Regulation 001 §3: look the IIN up as a ЦБД recipient, a ЦБД child or a ЦБДИ person; eligible
    when an active recipient (or a child in ЦБДИ) is found and the caller's full name matches.
    Stores an EligibilityCheck. Raises registry.iin.IINError for a malformed IIN."""
    iin = validate_iin(iin)
    full_name = _clean_full_name(full_name)
    tz = service.tz if service is not None else timezone.get_default_timezone()
    today = timezone.localdate(timezone=tz)

    entries = get_registry_adapter().lookup(iin)
    decision = _decide(iin=iin, full_name=full_name, entries=entries, today=today)

    check = EligibilityCheck(
        service=service,
        actor=actor if isinstance(actor, User) and actor.pk else None,
        iin=iin,
        full_name=full_name,
        eligible=decision.eligible,
        reason=decision.reason,
        # A remote adapter has no local row to point at.
        matched_record_id=decision.entry.record_id if decision.entry else None,
        child_iin=decision.child_iin,
    )
    # The model allows a check outside any service (an integration's); the form layer does not.
    check.full_clean(exclude=["service"] if service is None else None)
    check.save()
    audit_record(
        actor=actor,
        event_type=AuditEventType.REGISTRY_ELIGIBILITY_CHECKED,
        subject=check,
        extra={
            "service": getattr(service, "code", None),
            "eligible": check.eligible,
            "reason": check.reason,
        },
    )
    return EligibilityResult(
        eligible=check.eligible,
        reason=check.reason,
        message=eligibility_script(check.reason),
        check=check,
        child_iin=check.child_iin,
    )


def registry_import(*, source: str, path: Path, actor: Actor | None = None) -> ImportRun:
    """Import a ЦБД/ЦБДИ CSV (UTF-8, header, comma or semicolon): idempotent upsert, bad rows reported
    with line number and reason, good rows kept; a failure leaves the previous data intact.

    Not atomic as a whole on purpose: the rows go in one transaction, and the ImportRun is saved
    outside it so that a failed import is still on record.
    """
    path = Path(path)
    if source not in RegistrySource.values:
        raise DomainError(_("Unknown registry source."), code="invalid_source")
    run = ImportRun(
        source=source,
        file_name=path.name[: ImportRun._meta.get_field("file_name").max_length],
        actor=actor if isinstance(actor, User) and actor.pk else None,
    )
    run.full_clean()
    run.save()

    stats = ImportStats()
    # The ЦБДИ birth dates are bounded by Kazakhstan's calendar day, like the IIN validator's default.
    today = timezone.localdate(timezone=KZ_TZ)
    try:
        with transaction.atomic():
            load_file(source=source, path=path, stats=stats, today=today)
            _finish(run, stats, status=ImportRun.Status.DONE, actor=actor)
    except ImportFailed as failure:
        _fail(run, stats, {"line": failure.line, "reason": failure.reason}, actor=actor)
    except Exception as exc:
        # The exception text may quote row values (e.g. a constraint's DETAIL); log its type only.
        logger.error("Registry import run %s failed: %s", run.pk, type(exc).__name__)
        reason = _("The database rejected the import; no records were changed.")
        _fail(run, stats, {"line": None, "reason": reason}, actor=actor)
    return run


def _finish(run: ImportRun, stats: ImportStats, *, status: str, actor: Actor | None) -> None:
    run.status = status
    run.finished_at = timezone.now()
    run.rows_read = stats.rows_read
    run.rows_loaded = stats.rows_loaded if status == ImportRun.Status.DONE else 0
    run.rows_rejected = stats.rows_rejected
    run.errors = stats.errors
    run.save()
    audit_record(
        actor=actor,
        event_type=AuditEventType.REGISTRY_IMPORTED
        if status == ImportRun.Status.DONE
        else AuditEventType.REGISTRY_IMPORT_FAILED,
        subject=run,
        extra={
            "source": run.source,
            "rows_read": run.rows_read,
            "rows_loaded": run.rows_loaded,
            "rows_rejected": run.rows_rejected,
        },
    )


@transaction.atomic
def _fail(
    run: ImportRun, stats: ImportStats, failure: dict[str, Any], *, actor: Actor | None
) -> None:
    stats.errors = [failure, *stats.errors[: MAX_STORED_ERRORS - 1]]
    _finish(run, stats, status=ImportRun.Status.FAILED, actor=actor)
