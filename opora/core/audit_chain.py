"""The audit log's hash chain: the key, the canonical form of an event, and the verifier.

Each event's `hash` is HMAC-SHA256 under the audit key of the canonical JSON of its number in the
chain (`seq`), time, actor (id and label), event type, subject, extra data and the previous
event's hash (`prev_hash`; the first event follows `GENESIS`). Whoever changes, removes or
reorders rows without the key cannot make the chain whole again: `audit_chain_verify` walks it
in `seq` order and names the first entry that breaks it.

The key: `OPORA_AUDIT_KEY` (32 random bytes, URL-safe base64), required by the production
settings. Without it (development, tests) it is derived from SECRET_KEY with HKDF and the label
below — a documented fallback only: changing SECRET_KEY then makes every earlier event fail the
check. The key is not rotated (there is no key id on the rows); see docs/SECURITY.md.
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
from django.db import connections, router

from opora.core.crypto import decode_key
from opora.core.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64
KEY_PURPOSE = b"opora-audit-chain-v1"

# The triggers of migration 0007 that refuse UPDATE and DELETE.
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


def audit_chain_verify(*, batch_size: int = 5000) -> ChainReport:
    """Walk the chain in `seq` order and return the first break, if any.

    A missing number is a DELETE; an event whose id runs backwards or whose `prev_hash` is not the
    previous event's hash was moved (reordered, or inserted by hand); an event whose hash does not
    match its content was changed (UPDATE). The chain head must point at the last event: events
    missing at the end are a DELETE too.
    """
    key = audit_chain_key()
    prev_seq, prev_hash, prev_id, checked = 0, GENESIS, 0, 0
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
            elif event_id <= prev_id:
                broken = ChainBreak(
                    "reordered",
                    seq,
                    event_id,
                    "its id is older than the previous event's (reordered)",
                )
            elif values["prev_hash"] != prev_hash:
                broken = ChainBreak(
                    "reordered",
                    seq,
                    event_id,
                    "it does not follow the previous event (reordered or inserted)",
                )
            else:
                expected = chain_hash(
                    key=key,
                    **{k: values[k] for k in _FIELDS if k not in ("id", "hash")},
                )
                if not hmac.compare_digest(expected, values["hash"]):
                    broken = ChainBreak(
                        "changed",
                        seq,
                        event_id,
                        "its content was changed after it was written (updated)",
                    )
            if broken is not None:
                return ChainReport(checked, prev_seq, broken)
            prev_seq, prev_hash, prev_id = seq, values["hash"], event_id
            checked += 1
        if len(rows) < batch_size:
            break
    head = AuditChainHead.objects.filter(pk=AuditChainHead.ONE).first()
    if head is not None and head.seq > prev_seq:
        return ChainReport(
            checked,
            prev_seq,
            ChainBreak(
                "deleted",
                prev_seq + 1,
                None,
                f"seq {prev_seq + 1}–{head.seq} missing at the end (deleted)",
            ),
        )
    if head is not None and head.seq == prev_seq and prev_seq and head.hash != prev_hash:
        return ChainReport(
            checked,
            prev_seq,
            ChainBreak("reordered", prev_seq, prev_id, "the chain head names another last event"),
        )
    if not append_only_guard_present():
        return ChainReport(
            checked,
            prev_seq,
            ChainBreak(
                "unguarded",
                None,
                None,
                "the triggers that refuse UPDATE and DELETE are missing or disabled",
            ),
        )
    return ChainReport(checked, prev_seq, None)
