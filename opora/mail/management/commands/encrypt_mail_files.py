"""`opora encrypt_mail_files`: seal the raw letters and attachments still stored in clear.

The migration that introduced sealed mail files runs it once; run it again after restoring old
files from a backup. Idempotent: a sealed file is skipped; interrupted, it resumes.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from opora.mail.files import encrypt_stored_files
from opora.mail.models import Attachment, InboundMessage, OutgoingAttachment


class Command(BaseCommand):
    help = "Encrypt the raw letters (.eml), their attachments and the staff's attachments still in clear."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, *args: Any, **options: Any) -> None:
        done = encrypt_stored_files(
            InboundMessage,
            Attachment,
            outgoing_model=OutgoingAttachment,
            batch_size=options["batch_size"],
        )
        self.stdout.write(f"{done} files encrypted")
