"""`opora retention_run [--dry-run]`: apply the retention terms now (what the daily job does)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from opora.core.retention import retention_run


class Command(BaseCommand):
    help = "Anonymise or delete the records past their retention term (counts only are printed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be handled; change nothing."
        )
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        results = retention_run(dry_run=options["dry_run"], batch_size=options["batch_size"])
        verb = "would handle" if options["dry_run"] else "handled"
        for r in results:
            self.stdout.write(f"{r.service} {r.kind} ({r.days} days): {verb} {r.handled}")
        if not results:
            self.stdout.write("No retention term is configured.")
