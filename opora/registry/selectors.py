"""Reads of the registry domain."""

from __future__ import annotations

from django.db.models import QuerySet

from opora.registry.adapters import RegistryEntry, get_registry_adapter
from opora.registry.iin import validate_iin
from opora.registry.models import ImportRun


def registry_lookup(*, iin: str) -> list[RegistryEntry]:
    """Every ЦБД/ЦБДИ entry where `iin` is the person or the child, from the configured adapter.

    Raises registry.iin.IINError for a malformed IIN.
    """
    return get_registry_adapter().lookup(validate_iin(iin))


def import_runs(*, source: str | None = None, status: str | None = None) -> QuerySet[ImportRun]:
    """Registry imports, newest first."""
    qs = ImportRun.objects.select_related("actor").order_by("-started_at", "-pk")
    if source:
        qs = qs.filter(source=source)
    if status:
        qs = qs.filter(status=status)
    return qs
