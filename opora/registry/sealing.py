"""The registry copy at rest: each row's personal values sealed in one AES-GCM value.

A registry row holds an IIN, a child's IIN, a full name and (ЦБДИ) the disability group. They are
sealed together — one AES-GCM operation per row instead of six keeps a million-row import above its
speed target — as `enc1:<key id>:<base64>`, like `core.fields`. The nonce is a keyed hash of the
row's content (a synthetic IV): the same row under the same key seals to the same value, so a
repeated import sees that nothing changed and writes nothing, and distinct rows never share a
nonce. Beside it `iin_bidx` and `child_iin_bidx` are the blind indexes (`core.crypto`) that every
lookup uses.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from opora.core.crypto import blind_hasher, blind_index
from opora.core.fields import PREFIX, _aesgcm, decrypt_text, field_keys

# The sealed values, in this order.
SEALED = ("iin", "child_iin", "last_name", "first_name", "patronymic", "category")
SEP = "\x1f"  # the unit separator: never in a valid IIN or name (the sealer replaces it)
AAD = b"opora-field:registry.registryrecord.sealed"


def sealer() -> Callable[[tuple[str, ...]], str]:
    """A fast `values (SEALED order) → stored value` under the current field key."""
    key_id, key = next(iter(field_keys().items()))
    encrypt = _aesgcm(key).encrypt
    nonces = hashlib.blake2b(key=key, digest_size=12, person=b"opora-row-nonce")
    copy = nonces.copy
    prefix = f"{PREFIX}{key_id}:"
    b64 = base64.urlsafe_b64encode

    def seal(values: tuple[str, ...]) -> str:
        text = SEP.join(values)
        if text.count(SEP) != len(SEAL_SLOTS):
            text = SEP.join(v.replace(SEP, " ") for v in values)
        plain = text.encode()
        n = copy()
        n.update(plain)
        nonce = n.digest()
        return prefix + b64(nonce + encrypt(nonce, plain, AAD)).decode()

    return seal


SEAL_SLOTS = SEALED[1:]


def unseal(stored: str) -> dict[str, str]:
    """The sealed values by name; a missing or wrong key is a clear error (core.fields)."""
    if not stored:
        return dict.fromkeys(SEALED, "")
    if not stored.startswith(PREFIX):
        raise ImproperlyConfigured("A registry row is not sealed: run `opora rotate_keys`.")
    values = decrypt_text(stored, aad=AAD).split(SEP)
    return dict(zip(SEALED, values, strict=True))


def row_sealer() -> Callable[[tuple], tuple]:
    """For the importer: a record in `importer.RECORD_COLUMNS` order → `importer.DB_COLUMNS`."""
    seal = sealer()
    bidx = blind_hasher("iin")

    def convert(r: tuple) -> tuple:
        iin, child_iin, last, first, patronymic, relation, status, birth, category, valid = r
        return (
            bidx(iin),
            bidx(child_iin),
            seal((iin, child_iin, last, first, patronymic, category)),
            relation,
            status,
            birth,
            valid,
        )

    return convert


def seal_records(records: Iterable[tuple]) -> Iterator[tuple]:
    convert = row_sealer()
    return map(convert, records)


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
