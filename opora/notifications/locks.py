"""Every row lock of the notifications app, in one place (Saleor's `..._select_for_update()`).

Locks are taken one row at a time here, so no two of these can deadlock one another.
"""

from __future__ import annotations

from django.db.models import Model, QuerySet

from opora.notifications.models import ShortLink


def outbox_rows_select_for_update(model: type[Model], *, skip_locked: bool = True) -> QuerySet:
    """Rows of an outbox table, locked; by default a row another worker holds is skipped (the
    claim: that worker is sending it), so a claim never waits on a network call."""
    return model.objects.select_for_update(skip_locked=skip_locked, of=("self",))


def shortlink_select_for_update() -> QuerySet[ShortLink]:
    return ShortLink.objects.select_for_update()
