"""Where registry data comes from: the local ЦБД/ЦБДИ tables by default, a remote service if configured.

`OPORA_REGISTRY_ADAPTER` (a dotted path to a class with a no-argument constructor) replaces the local
tables, e.g. with a client of the national registry's own API; eligibility logic stays the same.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.db.models import Q
from django.utils.module_loading import import_string

from opora.core.crypto import blind_indexes
from opora.registry.models import RegistryRecord
from opora.registry.sealing import text_date, unseal

DEFAULT_ADAPTER = "opora.registry.adapters.LocalRegistryAdapter"


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """One registry row as the eligibility rules see it, whatever its origin."""

    source: str  # "cbd" or "cbdi"
    iin: str  # ЦБД: the benefit recipient; ЦБДИ: the person with disability
    child_iin: str  # ЦБД: the child raised; ЦБДИ: ""
    last_name: str
    first_name: str
    patronymic: str
    status: str  # ЦБД: "active" or "inactive"; ЦБДИ: ""
    birth_date: dt.date | None
    category: str
    valid_until: dt.date | None  # ЦБДИ: None means indefinite
    record_id: int | None = None  # the local RegistryRecord, when there is one


@runtime_checkable
class RegistryAdapter(Protocol):
    def lookup(self, iin: str) -> list[RegistryEntry]:
        """Every entry whose `iin` or `child_iin` equals `iin` (already a valid 12-digit IIN)."""
        ...


class LocalRegistryAdapter:
    """The RegistryRecord tables filled by `opora import_registry`."""

    def lookup(self, iin: str) -> list[RegistryEntry]:
        if not iin:
            # ЦБДИ rows store child_iin=""; an empty key must never match them all.
            return []
        hashes = blind_indexes("iin", iin)
        rows = (
            RegistryRecord.objects.filter(Q(iin_bidx__in=hashes) | Q(child_iin_bidx__in=hashes))
            .order_by("source", "pk")
            .values_list("source", "sealed", "status", "pk")
        )
        entries = []
        for source, sealed, status, pk in rows:
            v = unseal(sealed)
            entries.append(
                RegistryEntry(
                    source,
                    v["iin"],
                    v["child_iin"],
                    v["last_name"],
                    v["first_name"],
                    v["patronymic"],
                    status,
                    text_date(v["birth_date"]),
                    v["category"],
                    text_date(v["valid_until"]),
                    pk,
                )
            )
        return entries


def get_registry_adapter() -> RegistryAdapter:
    """The adapter named by the `OPORA_REGISTRY_ADAPTER` setting (the local tables by default)."""
    path = getattr(settings, "OPORA_REGISTRY_ADAPTER", "") or DEFAULT_ADAPTER
    return import_string(path)()
