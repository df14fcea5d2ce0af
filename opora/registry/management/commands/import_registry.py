"""`opora import_registry --source cbd|cbdi FILE.csv`: load a ЦБД/ЦБДИ export and print a summary."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from opora.registry.models import ImportRun, RegistrySource
from opora.registry.services import registry_import

SHOWN_ERRORS = 50


class Command(BaseCommand):
    help = "Import a ЦБД or ЦБДИ CSV file (UTF-8, header row, comma or semicolon)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", required=True, choices=RegistrySource.values)
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, source: str, file: Path, **options: Any) -> None:
        if not file.is_file():
            raise CommandError(_("File not found: %(path)s") % {"path": file})
        run = registry_import(source=source, path=file)

        failed = run.status == ImportRun.Status.FAILED
        errors = list(run.errors)
        failure = errors.pop(0) if failed and errors else None
        self.stdout.write(
            _("Import #%(id)s of %(source)s from %(file)s: %(status)s")
            % {
                "id": run.pk,
                "source": RegistrySource(source).label,
                "file": run.file_name,
                "status": run.get_status_display(),
            }
        )
        self.stdout.write(
            _("Rows read: %(read)d, loaded: %(loaded)d, rejected: %(rejected)d")
            % {"read": run.rows_read, "loaded": run.rows_loaded, "rejected": run.rows_rejected}
        )
        shown = errors[:SHOWN_ERRORS]
        for error in shown:
            self.stdout.write(self._format(error))
        more = run.rows_rejected - len(shown)
        if more > 0:
            self.stdout.write(_("... and %(count)d more") % {"count": more})
        if failure is not None:
            raise CommandError(
                _("The file could not be imported; the registry is unchanged. %(reason)s")
                % {"reason": self._format(failure)}
            )

    @staticmethod
    def _format(error: dict) -> str:
        if error.get("line"):
            return _("line %(line)d: %(reason)s") % error
        return str(error["reason"])
