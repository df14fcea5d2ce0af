"""`opora rebuild_rollups`: the dashboards' daily roll-up built anew from the data (every day up to
yesterday; today is always counted live)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from opora.journals.rollups import rebuild


class Command(BaseCommand):
    help = "Rebuild the dashboards' daily roll-up (journals_dailyfigure) from the data."

    def handle(self, *args: Any, **options: Any) -> None:
        t0 = time.perf_counter()
        days = rebuild()
        self.stdout.write(f"roll-up rebuilt: {days} days in {time.perf_counter() - t0:.1f} s")
