"""Core's periodic tasks: the retention job (beat entry "retention", daily)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from opora.core.retention import retention_run as run


@shared_task(name="opora.core.tasks.retention_run")
def retention_run() -> dict[str, Any]:
    results = run()
    return {f"{r.service}:{r.kind}": r.handled for r in results}
