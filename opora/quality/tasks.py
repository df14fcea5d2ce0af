"""Periodic work of the quality evaluation (beat entry "quality-sweep", also run by `opora
scheduler`)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task


@shared_task(name="opora.quality.tasks.sweep_evaluations")
def sweep_evaluations(now: dt.datetime | None = None) -> dict[str, int]:
    """Open the evaluations of the services given lately, invite once, remind once."""
    from opora.quality.services import evaluations_sweep

    return evaluations_sweep(now=now)
