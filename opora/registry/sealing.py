"""The registry copy at rest: each row's personal values sealed in one AES-GCM value.

A registry row holds an IIN, a child's IIN, a full name and (ЦБДИ) the birth date, disability group
and its end date. They are sealed together — one AES-GCM operation per row instead of eight keeps a
million-row import above its speed target — as `enc1:<key id>:<base64>`, like `core.fields`. The
nonce is a keyed hash of the row's content (a synthetic IV): the same row under the same key seals to
the same value, so a repeated import sees that nothing changed and writes nothing, and distinct rows
never share a nonce. Beside it `iin_bidx` and `child_iin_bidx` are the blind indexes (`core.crypto`)
that every lookup uses. Nothing filters on a sealed value in SQL: eligibility (`valid_until`
included) is decided in Python on the rows one IIN lookup found.
"""

from __future__ import annotations

import binascii
import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from opora.core.crypto import blind_hasher, blind_index
from opora.core.fields import PREFIX, _aesgcm, decrypt_text, field_keys

# The sealed values, in this order; the dates as ISO text, "" for none. A value sealed before the
# two dates were added holds the first six only (the missing ones read as "").
SEALED = (
    "iin",
    "child_iin",
    "last_name",
    "first_name",
    "patronymic",
    "category",
    "birth_date",
    "valid_until",
)
SEP = "\x1f"  # the unit separator: never in a valid IIN or name (the sealer replaces it)
AAD = b"opora-field:registry.registryrecord.sealed"
_URLSAFE = bytes.maketrans(b"+/", b"-_")  # base64.urlsafe_b64encode, without its two calls


def sealer() -> Callable[[tuple[str, ...]], str]:
    """A fast `values (SEALED order, all text) → stored value` under the current field key."""
    key_id, key = next(iter(field_keys().items()))
    encrypt = _aesgcm(key).encrypt
    # The nonce's keyed hash: the key schedule is done once, each row hashes from a copy.
    copy = hashlib.blake2b(key=key, digest_size=12, person=b"opora-row-nonce").copy
    prefix = f"{PREFIX}{key_id}:"
    b64, urlsafe, join, seps = binascii.b2a_base64, _URLSAFE, SEP.join, len(SEALED) - 1

    def seal(values: tuple[str, ...]) -> str:
        text = join(values)
        if text.count(SEP) != seps:
            text = join(v.replace(SEP, " ") for v in values)
        plain = text.encode()
        n = copy()
        n.update(plain)
        nonce = n.digest()
        return prefix + b64(nonce + encrypt(nonce, plain, AAD), newline=False).translate(
            urlsafe
        ).decode("ascii")

    return seal


def unseal(stored: str) -> dict[str, str]:
    """The sealed values by name, all text; a missing or wrong key is a clear error
    (core.fields)."""
    if not stored:
        return dict.fromkeys(SEALED, "")
    if not stored.startswith(PREFIX):
        raise ImproperlyConfigured("A registry row is not sealed: run `opora rotate_keys`.")
    values = decrypt_text(stored, aad=AAD).split(SEP)
    if len(values) < len(SEALED):  # sealed before the dates were (registry migration 0004)
        values += [""] * (len(SEALED) - len(values))
    return dict(zip(SEALED, values, strict=True))


def text_date(value: str) -> dt.date | None:
    """A sealed date (ISO text, "" for none) as a date."""
    return dt.date.fromisoformat(value) if value else None


def _seal_record(r: tuple, seal: Callable[[tuple[str, ...]], str]) -> str:
    """The sealed value of a record in `importer.RECORD_COLUMNS` order."""
    iin, child_iin, last, first, patronymic, _relation, _status, birth, category, valid = r
    return seal(
        (
            iin,
            child_iin,
            last,
            first,
            patronymic,
            category,
            birth.isoformat() if birth else "",
            valid.isoformat() if valid else "",
        )
    )


def row_sealer() -> Callable[[tuple], tuple]:
    """For the importer's generic loader: a record in `importer.RECORD_COLUMNS` order →
    `importer.DB_COLUMNS`."""
    seal = sealer()
    bidx = blind_hasher("iin")

    def convert(r: tuple) -> tuple:
        return (bidx(r[0]), bidx(r[1]), _seal_record(r, seal), r[5], r[6])

    return convert


def seal_records(records: Iterable[tuple]) -> Iterator[tuple]:
    return map(row_sealer(), records)


# COPY's text format: a backslash, tab, newline or carriage return in a value is escaped; an
# empty value is the empty string (NULL would be \\N).
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: str) -> str:
    """`value` as a field of COPY's text format."""
    return value.translate(_COPY_ESCAPES)


def copy_line_sealer() -> Callable[[tuple], str]:
    """For the PostgreSQL loader: a record in `importer.RECORD_COLUMNS` order → one line of
    `COPY … (DB_COLUMNS) FROM STDIN` in the text format, newline included.

    The blind indexes and the sealed value are hex and base64, never escaped; relation and status
    are few distinct values in a file, so their escaped forms (`copy_text`) are remembered.
    """
    seal = sealer()
    bidx = blind_hasher("iin")
    escaped: dict[str, str] = {}

    def escape(value: str) -> str:
        try:
            return escaped[value]
        except KeyError:
            if len(escaped) > 10_000:
                escaped.clear()
            out = escaped[value] = copy_text(value)
            return out

    def convert(r: tuple) -> str:
        sealed = _seal_record(r, seal)  # the one layout of the sealed values
        iin, child_iin, relation, status = r[0], r[1], r[5], r[6]
        return f"{bidx(iin)}\t{bidx(child_iin)}\t{sealed}\t{escape(relation)}\t{escape(status)}\n"

    return convert


def index_of(iin: str) -> str:
    return blind_index("iin", iin)


def reseal_rows(
    model: Any, *, using: str = "default", reindex: bool = False, batch_size: int = 2000
) -> int:
    """`rotate_keys` for the registry: reseal every row not sealed under the current key (and
    recompute both blind indexes with `reindex`), `batch_size` rows per transaction; resumable."""
    from django.db import transaction

    from opora.core.fields import current_key_id

    prefix = f"{PREFIX}{current_key_id()}:"
    seal = sealer()
    bidx = blind_hasher("iin")
    manager = model._base_manager.db_manager(using)
    done, last = 0, 0
    while True:
        rows = list(
            manager.filter(pk__gt=last).order_by("pk").values_list("pk", "sealed")[:batch_size]
        )
        if not rows:
            return done
        last = rows[-1][0]
        with transaction.atomic(using=using):
            for pk, stored in rows:
                if not reindex and stored.startswith(prefix):
                    continue
                values = unseal(stored)
                manager.filter(pk=pk).update(
                    sealed=seal(tuple(values[k] for k in SEALED)),
                    iin_bidx=bidx(values["iin"]),
                    child_iin_bidx=bidx(values["child_iin"]),
                )
                done += 1
