"""`opora check_residency`: every data host (settings and the mailboxes) against the in-country
allow-list `OPORA_DATA_HOSTS_ALLOWED`; exits 1 when one is outside (or no list is set)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from opora.core.residency import mailbox_hosts, outside, settings_hosts


class Command(BaseCommand):
    help = "Check that the database, cache, storage and mail hosts are on the in-country list."

    def handle(self, *args: Any, **options: Any) -> None:
        entries = list(getattr(settings, "OPORA_DATA_HOSTS_ALLOWED", []) or [])
        if not entries:
            raise CommandError("OPORA_DATA_HOSTS_ALLOWED is not set: nothing to check against.")
        uses = settings_hosts() + mailbox_hosts()
        bad = outside(uses, entries)
        for use in uses:
            mark = "OUTSIDE" if use in bad else "ok"
            self.stdout.write(f"{mark:8} {use.what}: {use.host}")
        if bad:
            raise CommandError(f"{len(bad)} data host(s) outside the allow-list.")
