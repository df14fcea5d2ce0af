"""`opora encrypt_chat_files`: seal the files staff sent through a messenger still stored in clear.

The migration that introduced sealed chat files runs it once; run it again after restoring old
files from a backup. Idempotent: a sealed file is skipped; interrupted, it resumes.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from opora.messengers.models import OutgoingChatMessage
from opora.messengers.reply_files import seal_stored_reply_files


class Command(BaseCommand):
    help = "Encrypt the files staff sent through a messenger still stored in clear."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, *args: Any, **options: Any) -> None:
        done = seal_stored_reply_files(OutgoingChatMessage, batch_size=options["batch_size"])
        self.stdout.write(f"{done} files encrypted")
