"""The audit log's hash chain: the key, the canonical form of an event, the sealer and the verifier.

Writers insert events unsealed (`seq`, `prev_hash`, `hash` NULL; `core.audit.audit_record`), with
no lock. The sealer (`audit_seal`: every minute from the beat entry "audit-seal", at the start of
`opora verify_audit`) takes the chain head's row lock in a short transaction of its own, numbers
the committed unsealed events in (created_at, id) order and chains them. Only committed rows are
visible to it, and it seals whatever it sees, whatever its id: a transaction that commits late
(ids are taken at INSERT, commits land in any order) is simply sealed by a later run, after
events with higher ids. So `seq` is the order of sealing, not of ids; the grace (`SEAL_GRACE`)
only keeps it close to the order of time in the common case, it is not needed for correctness.

Each event's `hash` is HMAC-SHA256 under the audit key of the canonical JSON of its number in the
chain (`seq`), time, actor (id and label), event type, subject, extra data and the previous
event's hash (`prev_hash`; the first event follows `GENESIS`). Whoever changes, removes or
reorders rows without the key cannot make the chain whole again: `audit_chain_verify` walks it
in `seq` order and names the first entry that breaks it.

The key: `OPORA_AUDIT_KEY` (32 random bytes, URL-safe base64), required by the production
settings. Without it (development, tests) it is derived from SECRET_KEY with HKDF and the label
below — a documented fallback only: changing SECRET_KEY then makes every earlier event fail the
check. Rotation: the new key in `OPORA_AUDIT_KEY`, the old one moved to `OPORA_AUDIT_OLD_KEYS`;
new events are sealed with the new key and the verifier accepts each run of the chain under its
own key, never a retired key after its run (`audit_chain_verify`); see docs/SECURITY.md.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone

from opora.core.crypto import decode_key
from opora.core.locks import audit_chain_head_qs_select_for_update
from opora.core.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64
KEY_PURPOSE = b"opora-audit-chain-v1"

# The periodic sealer leaves the last seconds' events for its next run (see the module's text).
SEAL_GRACE = dt.timedelta(seconds=2)
SEAL_BATCH = 1000
# Unsealed events older than this mean the sealer is not running (`opora verify_audit` says so).
STUCK_AFTER = dt.timedelta(minutes=10)

# The triggers (migrations 0007 and 0008) that refuse UPDATE (but the sealing one) and DELETE.
APPEND_ONLY_TRIGGERS = {
    "postgresql": ("core_auditevent_append_only", "core_auditchainhead_kept"),
    "sqlite": (
        "core_auditevent_no_update",
        "core_auditevent_no_delete",
        "core_auditchainhead_no_delete",
    ),
}


@functools.lru_cache(maxsize=4)
def _derive_key(configured: str, secret_key: str) -> bytes:
    if configured:
        return decode_key(configured, setting="OPORA_AUDIT_KEY")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_PURPOSE).derive(
        secret_key.encode()
    )


def audit_chain_key() -> bytes:
    return _derive_key(getattr(settings, "OPORA_AUDIT_KEY", "") or "", settings.SECRET_KEY)


def audit_chain_keys() -> list[bytes]:
    """The current key first, then the retired ones (`OPORA_AUDIT_OLD_KEYS`) that sealed the
    chain's earlier events: a rotation seals new events with the new key, the old stay as they
    are (see `audit_chain_verify` for why a retired key cannot be used again)."""
    keys = [audit_chain_key()]
    for old in getattr(settings, "OPORA_AUDIT_OLD_KEYS", ()) or ():
        key = decode_key(old, setting="OPORA_AUDIT_OLD_KEYS")
        if key not in keys:
            keys.append(key)
    return keys


_NUMBER = "\u0000n:"


def _canon(value: Any) -> Any:
    """Numbers as their normalised decimal text (tagged), so that what a database's JSON type
    gives back (PostgreSQL's jsonb turns 1e16 into 10000000000000000) hashes the same."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal):
        return _NUMBER + format(
            Decimal(repr(value) if isinstance(value, float) else value).normalize()
        )
    if isinstance(value, dict):
        return {str(k): _canon(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canon(v) for v in value]
    raise TypeError(f"audit extra data cannot hold {type(value).__name__}")


def normalised_extra(extra: dict[str, Any] | None) -> dict[str, Any]:
    """`extra` as the database will give it back (JSON round trip: tuples become lists)."""
    return json.loads(json.dumps(extra or {}))


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def chain_hash(
    *,
    key: bytes,
    seq: int,
    created_at: dt.datetime,
    actor_id: int | None,
    actor_label: str,
    event_type: str,
    subject_type: str,
    subject_id: str,
    extra: dict[str, Any],
    prev_hash: str,
) -> str:
    body = json.dumps(
        [
            seq,
            _time(created_at),
            actor_id,
            actor_label,
            event_type,
            subject_type,
            subject_id,
            _canon(extra),
            prev_hash,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def event_hash(event: AuditEvent, *, key: bytes | None = None) -> str:
    if event.seq is None or event.prev_hash is None:
        raise ValueError("An unsealed event has no hash yet.")
    return chain_hash(
        key=key or audit_chain_key(),
        seq=event.seq,
        created_at=event.created_at,
        actor_id=event.actor_id,
        actor_label=event.actor_label,
        event_type=event.event_type,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        extra=event.extra,
        prev_hash=event.prev_hash,
    )


def _locked_head(using: str) -> AuditChainHead:
    head = (
        audit_chain_head_qs_select_for_update().using(using).filter(pk=AuditChainHead.ONE).first()
    )
    if head is not None:
        return head
    # No head row (a fresh table, or tests that truncate): start from the last sealed event.
    last = (
        AuditEvent.objects.using(using)
        .filter(seq__isnull=False)
        .order_by("-seq")
        .values_list("seq", "hash")
        .first()
    )
    seq, last_hash = last or (0, "")
    AuditChainHead.objects.using(using).bulk_create(
        [AuditChainHead(pk=AuditChainHead.ONE, seq=seq or 0, hash=last_hash or "")],
        ignore_conflicts=True,
    )
    return audit_chain_head_qs_select_for_update().using(using).get(pk=AuditChainHead.ONE)


SEAL_UPDATE_SQL = (
    "UPDATE core_auditevent AS e SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash "
    "FROM (VALUES {rows}) AS v(id, seq, prev_hash, hash) WHERE e.id = v.id"
)


def _write_seals(batch: list[AuditEvent], using: str) -> None:
    connection = connections[using]
    if connection.vendor != "postgresql":
        AuditEvent.objects.using(using).bulk_update(batch, ["seq", "prev_hash", "hash"])
        return
    # One UPDATE ... FROM (VALUES ...): Django's bulk_update writes a CASE per column, whose cost
    # grows with the square of the batch.
    rows = ", ".join(["(%s::bigint, %s::bigint, %s, %s)"] * len(batch))
    params: list[Any] = []
    for event in batch:
        params += [event.pk, event.seq, event.prev_hash, event.hash]
    # Only placeholders are formatted in.
    sql = SEAL_UPDATE_SQL.replace("{rows}", rows)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def audit_seal(
    *, grace: dt.timedelta = SEAL_GRACE, batch_size: int = SEAL_BATCH, using: str | None = None
) -> int:
    """Number and chain the committed unsealed events older than `grace`, in (created_at, id)
    order, `batch_size` at a time, each batch in a short transaction of its own that holds the
    chain head's row lock (so two sealers take their turn). Returns how many were sealed.

    The UPDATE changes only `seq`, `prev_hash` and `hash` of rows whose `hash` is NULL: the one
    UPDATE the append-only triggers let through."""
    using = using or router.db_for_write(AuditEvent)
    key = audit_chain_key()
    sealed = 0
    while True:
        with transaction.atomic(using=using):
            head = _locked_head(using)
            batch = list(
                AuditEvent.objects.using(using)
                .filter(hash__isnull=True, created_at__lte=timezone.now() - grace)
                .order_by("created_at", "id")[:batch_size]
            )
            seq, prev_hash = head.seq, head.hash or GENESIS
            for event in batch:
                seq += 1
                event.seq, event.prev_hash = seq, prev_hash
                event.hash = prev_hash = event_hash(event, key=key)
            if batch:
                _write_seals(batch, using)
                head.seq, head.hash = seq, prev_hash
                head.save(using=using, update_fields=["seq", "hash"])
        sealed += len(batch)
        if len(batch) < batch_size:
            return sealed


def audit_seal_now() -> int:
    """Seal every committed event, with no grace: for `opora verify_audit` and tests."""
    return audit_seal(grace=dt.timedelta(0))


def audit_unsealed(*, older_than: dt.timedelta = dt.timedelta(0)) -> int:
    """How many events older than `older_than` are still unsealed."""
    return AuditEvent.objects.filter(
        hash__isnull=True, created_at__lte=timezone.now() - older_than
    ).count()


@dataclass(frozen=True)
class ChainBreak:
    """The first place where the chain does not hold, and what that means."""

    kind: str  # "deleted" | "reordered" | "changed" | "unguarded"
    seq: int | None
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "the table"
        if self.event_id is not None:
            where += f" (event id {self.event_id})"
        return f"{where}: {self.reason} [{self.kind}]"


@dataclass(frozen=True)
class ChainReport:
    checked: int
    last_seq: int
    broken: ChainBreak | None
    # Events older than STUCK_AFTER that were still unsealed when the check began: the sealer is
    # not running (not tampering, but it keeps the window between write and seal open).
    stale_unsealed: int = 0

    @property
    def ok(self) -> bool:
        return self.broken is None


_FIELDS = (
    "id",
    "seq",
    "created_at",
    "actor_id",
    "actor_label",
    "event_type",
    "subject_type",
    "subject_id",
    "extra",
    "prev_hash",
    "hash",
)


def append_only_guard_present(using: str | None = None) -> bool:
    """Whether the database still has the triggers that refuse UPDATE and DELETE (on SQLite a
    later migration that rebuilds the table would drop them)."""
    connection = connections[using or router.db_for_write(AuditEvent)]
    wanted = APPEND_ONLY_TRIGGERS.get(connection.vendor)
    if wanted is None:
        return True
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'"
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    return set(wanted) <= present


def audit_chain_verify(*, batch_size: int = 5000, seal: bool = True) -> ChainReport:
    """Seal what is committed (unless `seal` is false), then walk the chain in `seq` order and
    return the first break, if any.

    A missing number is a DELETE; an event whose `prev_hash` is not the previous event's hash was
    moved (reordered, or inserted by hand); an event whose hash does not match its content (or its
    `seq`: numbers swapped) was changed (UPDATE). The chain head must point at the last event:
    events missing at the end are a DELETE too. Ids are not checked for order: `seq` is the order
    of sealing, and a transaction that committed late is sealed after higher ids.
    """
    stale = audit_unsealed(older_than=STUCK_AFTER)
    if seal:
        audit_seal_now()
    # Key rotation: the chain is sealed in runs, one key each, the current key's run last. An
    # event is checked under the key of the event before it, else under a key no earlier run
    # used; the key it leaves is retired for the rest of the chain. So a retired key (which may
    # have leaked) can rewrite nothing after its own run: the next run's first event names the
    # last hash of it, under a key the forger does not hold.
    keys = audit_chain_keys()
    key: bytes | None = None  # the key of the current run (none before the first event)
    retired: list[bytes] = []
    prev_seq, prev_hash, prev_id, checked = 0, GENESIS, 0, 0

    def report(broken: ChainBreak | None) -> ChainReport:
        return ChainReport(checked, prev_seq, broken, stale_unsealed=stale)

    while True:
        rows = list(
            AuditEvent.objects.filter(seq__gt=prev_seq)
            .order_by("seq")
            .values_list(*_FIELDS)[:batch_size]
        )
        for row in rows:
            values = dict(zip(_FIELDS, row, strict=True))
            seq, event_id = values["seq"], values["id"]
            broken = None
            if seq != prev_seq + 1:
                missing = (
                    f"seq {prev_seq + 1}"
                    if seq == prev_seq + 2
                    else f"seq {prev_seq + 1}–{seq - 1}"
                )
                broken = ChainBreak(
                    "deleted", seq, event_id, f"{missing} missing before it (deleted)"
                )
            elif values["prev_hash"] != prev_hash:
                broken = ChainBreak(
                    "reordered",
                    seq,
                    event_id,
                    "it does not follow the previous event (reordered or inserted)",
                )
            else:
                content = {k: values[k] for k in _FIELDS if k not in ("id", "hash")}
                fresh = [k for k in keys if k is not key and k not in retired]
                matched = next(
                    (
                        candidate
                        for candidate in ([key] if key is not None else []) + fresh
                        if hmac.compare_digest(
                            chain_hash(key=candidate, **content), values["hash"] or ""
                        )
                    ),
                    None,
                )
                if matched is not None and matched is not key:
                    if key is not None:
                        retired.append(key)
                    key = matched
                if matched is None:
                    broken = ChainBreak(
                        "changed",
                        seq,
                        event_id,
                        "its content was changed after it was written (updated)",
                    )
            if broken is not None:
                return report(broken)
            prev_seq, prev_hash, prev_id = seq, values["hash"], event_id
            checked += 1
        if len(rows) < batch_size:
            break
    head = AuditChainHead.objects.filter(pk=AuditChainHead.ONE).first()
    if head is not None and head.seq > prev_seq:
        return report(
            ChainBreak(
                "deleted",
                prev_seq + 1,
                None,
                f"seq {prev_seq + 1}–{head.seq} missing at the end (deleted)",
            ),
        )
    if head is not None and head.seq == prev_seq and prev_seq and head.hash != prev_hash:
        return report(
            ChainBreak("reordered", prev_seq, prev_id, "the chain head names another last event"),
        )
    if not append_only_guard_present():
        return report(
            ChainBreak(
                "unguarded",
                None,
                None,
                "the triggers that refuse UPDATE and DELETE are missing or disabled",
            ),
        )
    return report(None)
