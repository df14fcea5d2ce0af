"""`opora verify_audit`: seal what is committed, check the audit log's hash chain and name the
first broken entry.

Exit code 0 when the chain holds, 1 when it does not (the message names the entry's number in the
chain, its id and why: deleted, reordered or changed). Events left unsealed for more than
10 minutes before the check (the sealer is not running) are reported as a warning. Run daily by the scheduler
(`web.tasks.verify_audit_chain`, which also alerts the security officers).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from opora.core.audit_chain import STUCK_AFTER, audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; name the first broken entry (exit code 1)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=5000, help="Events read per query (default 5000)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_chain_verify(batch_size=options["batch_size"])
        if report.stale_unsealed:
            minutes = int(STUCK_AFTER.total_seconds() // 60)
            self.stderr.write(
                f"Warning: {report.stale_unsealed} events were unsealed for more than "
                f"{minutes} minutes (is the sealer, beat entry audit-seal, running?); "
                "sealed now."
            )
        if report.broken is not None:
            raise CommandError(
                f"Audit chain broken at {report.broken} "
                f"({report.checked} events before it are intact)."
            )
        self.stdout.write(
            f"Audit chain intact: {report.checked} events, last seq {report.last_seq}."
        )
