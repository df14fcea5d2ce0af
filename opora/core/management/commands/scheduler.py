"""`opora scheduler`: the periodic tasks of CELERY_BEAT_SCHEDULE without a broker or beat.

For the embedded default (no Redis): once a minute, on the minute, each configured task that is
due is run in this process. With a broker, run Celery beat and workers instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import zoneinfo
from typing import Any

from celery.schedules import crontab
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger("opora.scheduler")

TICK_SECONDS = 60


def _crontab_matches(schedule: crontab, moment: dt.datetime) -> bool:
    # Celery's crontab fields are sets of allowed values; day_of_week counts Sunday as 0.
    # (celery-types does not declare these parsed sets, hence `Any`.)
    fields: Any = schedule
    return (
        moment.minute in fields.minute
        and moment.hour in fields.hour
        and moment.day in fields.day_of_month
        and moment.month in fields.month_of_year
        and (moment.isoweekday() % 7) in fields.day_of_week
    )


def _is_due(entry: dict[str, Any], moment: dt.datetime, tick: int) -> bool:
    schedule: Any = entry.get("schedule")
    if isinstance(schedule, crontab):
        return _crontab_matches(schedule, moment)
    seconds = None
    if isinstance(schedule, int | float):
        seconds = float(schedule)
    elif isinstance(schedule, dt.timedelta):
        seconds = schedule.total_seconds()
    elif hasattr(schedule, "run_every"):
        seconds = schedule.run_every.total_seconds()
    if not seconds or seconds <= TICK_SECONDS:
        return True
    return tick % max(1, round(seconds / TICK_SECONDS)) == 0


def _refresh_connections() -> None:
    # Like a request boundary: drop broken or expired connections between ticks (not inside a
    # transaction, e.g. when a test calls run_tick).
    if not connection.in_atomic_block:
        close_old_connections()


def run_tick(*, moment: dt.datetime | None = None, tick: int = 0) -> dict[str, str]:
    """Run every due task once; return {entry name: "ok" | "error" | "skipped"}."""
    moment = moment or timezone.now()
    # Crontab fields are read in Celery's time zone, as beat would.
    local = moment.astimezone(zoneinfo.ZoneInfo(getattr(settings, "CELERY_TIMEZONE", "") or "UTC"))
    results = {}
    for name, entry in getattr(settings, "CELERY_BEAT_SCHEDULE", {}).items():
        if not _is_due(entry, local, tick):
            results[name] = "skipped"
            continue
        _refresh_connections()
        try:
            task = import_string(entry["task"])
            task.apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}), throw=True)
        except Exception as exc:  # noqa: BLE001 - one failing task must not stop the others
            # The exception type only: messages may carry personal data.
            logger.error("scheduled task %s failed: %s", name, type(exc).__name__)
            results[name] = "error"
        else:
            results[name] = "ok"
        finally:
            _refresh_connections()
    return results


class Command(BaseCommand):
    help = "Run the periodic tasks (CELERY_BEAT_SCHEDULE) every minute without a broker."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Run one tick and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            results = run_tick()
            for name, result in results.items():
                self.stdout.write(f"{name}: {result}")
            return
        logger.info("scheduler started: %d periodic tasks", len(settings.CELERY_BEAT_SCHEDULE))
        tick = 0
        try:
            while True:
                # Sleep to the start of the next minute, so runs stay aligned to the clock.
                time.sleep(TICK_SECONDS - (time.time() % TICK_SECONDS))
                run_tick(tick=tick)
                tick += 1
        except KeyboardInterrupt:
            logger.info("scheduler stopped")
