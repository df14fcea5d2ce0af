"""Rows that other domains add to a journal: the events' participants and services.

The journals may not import the events (the same rank: neither knows the other), so the screens'
app registers the events' row providers here at start-up (`web.apps`), and a journal asks
whoever provides rows for its form. A provider is a function `(service, date_from, date_to)` that
returns a flat `values()` query, ordered by its `date` key, which the journal streams.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet

from opora.core.models import Service

RowProvider = Callable[[Service, dt.date, dt.date], QuerySet[Any, Any]]

# The registry's keys: the form a provider fills and what its rows are.
PARTICIPANTS = "participants-002"  # the group consultations' participants (002 Appendix 3)
EVENT_SERVICES = "services-004"  # each participant of an event as a service (regulation 004)

_PROVIDERS: dict[str, RowProvider] = {}


def register_rows(key: str, provider: RowProvider) -> None:
    """Register the provider of `key`'s rows (a second registration replaces the first)."""
    _PROVIDERS[key] = provider


def provided_rows(key: str) -> RowProvider | None:
    return _PROVIDERS.get(key)
