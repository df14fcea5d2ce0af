"""`opora rebuild_report_figures [--service CODE] [--month YYYY-MM]`: the stored 1411 figures
(`reports_monthfigure`) counted anew from the data — every month with data of every active
service, or the one given. Needed after a bulk update (which marks no month changed)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opora.core.models import Service
from opora.reports.rollup import rebuild


class Command(BaseCommand):
    help = "Recount the stored figures of the 1411 reports (reports_monthfigure) from the data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--service", help="the service's code (default: every active one)")
        parser.add_argument("--month", help="YYYY-MM (default: every month with data)")

    def handle(self, *args: Any, **options: Any) -> None:
        service = None
        if options["service"]:
            service = Service.objects.filter(code=options["service"]).first()
            if service is None:
                raise CommandError(f"no service with the code {options['service']!r}")
        month = None
        if options["month"]:
            try:
                month = dt.datetime.strptime(options["month"], "%Y-%m").date()  # noqa: DTZ007
            except ValueError:
                raise CommandError("--month is YYYY-MM, e.g. 2026-03") from None
        t0 = time.perf_counter()
        done = rebuild(service=service, month=month)
        for code, m, seconds in done:
            self.stdout.write(f"{code} {m}: {seconds:.2f} s")
        self.stdout.write(
            f"1411 figures recounted: {len(done)} month(s) in {time.perf_counter() - t0:.1f} s"
        )
