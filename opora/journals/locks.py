"""The locks of journals, in one place: the roll-up's refresh runs one at a time."""

from __future__ import annotations

from django.db import connection

# An arbitrary constant naming the roll-up's advisory lock ("dashboards" on a phone keypad).
ROLLUP_LOCK = 327_422_7372


def rollup_refresh_lock() -> None:
    """Inside a transaction: wait until no other refresh of the roll-up runs (PostgreSQL's
    transaction-level advisory lock; SQLite writes one transaction at a time anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK])
