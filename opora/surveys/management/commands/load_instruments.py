from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from opora.surveys.loader import load_shipped
from opora.surveys.models import Instrument, InstrumentVersion


class Command(BaseCommand):
    help = "Load the shipped questionnaires (PHQ-9, GAD-7, PSS-10, Parental Stress Scale)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            written = load_shipped(Instrument, InstrumentVersion, update=True)
        self.stdout.write(", ".join(written) if written else "up to date")
