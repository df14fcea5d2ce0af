"""`opora rotate_keys`: re-encrypt every encrypted column with the current key, in batches.

Rotation without downtime:

1. Make a new key; set `OPORA_FIELD_KEY` to it and put the previous one into
   `OPORA_FIELD_OLD_KEYS`; restart. New writes use the new key; old values still decrypt.
2. Run `opora rotate_keys`. Each row not yet sealed under the current key (the key id is part of
   every stored value) is re-encrypted, 1,000 rows per transaction. Readers keep working: both
   forms decrypt. Stopped or failed, it resumes where it ended when run again.
3. When it reports 0 rows left (`--check`), remove the old key from `OPORA_FIELD_OLD_KEYS`.

The blind indexes: set `OPORA_INDEX_KEY` to a new key and the old one into
`OPORA_INDEX_OLD_KEYS`; lookups then ask for the hashes under both keys. Run
`opora rotate_keys --reindex`, which recomputes every blind index and name token (every row: a
hash does not say which key made it, so this pass is not resumable, only repeatable), then drop
the old index key.

A stored value under a key that is neither current nor old is a clear error (ImproperlyConfigured
naming the key id), never garbage.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import import_string

from opora.core.fields import PREFIX, current_key_id, encrypt_rows
from opora.core.sensitive import SEALED_BY_MODEL, SENSITIVE


def pending(label: str) -> int:
    """Rows of `label` with a value not sealed under the current key."""
    model = apps.get_model(label)
    prefix = f"{PREFIX}{current_key_id()}:"
    fields = ["sealed"] if label in SEALED_BY_MODEL else list(SENSITIVE[label])
    return model._base_manager.filter(_raw_filter(model, fields, prefix)).count()


def _raw_filter(model: Any, fields: list[str], prefix: str) -> Any:
    """A filter on the stored (encrypted) text: the fields' own lookups refuse such searches."""
    from django.db.models import Q
    from django.db.models.expressions import RawSQL

    conditions = Q(pk__in=[])
    for f in fields:
        column = model._meta.get_field(f).column
        conditions |= Q(
            pk__in=RawSQL(  # noqa: S611 - identifiers from the model, values as parameters
                f'SELECT "{model._meta.pk.column}" FROM "{model._meta.db_table}" '  # noqa: S608 - identifiers from the model
                f'WHERE "{column}" <> %s AND "{column}" NOT LIKE %s',
                ["", prefix.replace("_", "\\_") + "%"],
            )
        )
    return conditions


class Command(BaseCommand):
    help = "Re-encrypt every encrypted column with the current key (resumable, in batches)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reindex", action="store_true", help="also recompute every blind index"
        )
        parser.add_argument(
            "--check", action="store_true", help="only count the rows not yet re-encrypted"
        )
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for label, fields in SENSITIVE.items():
            if options["check"]:
                left = pending(label)
                total += left
                self.stdout.write(f"{label}: {left} rows left")
                continue
            model = apps.get_model(label)
            if label in SEALED_BY_MODEL:
                done = import_string(SEALED_BY_MODEL[label])(
                    model, reindex=options["reindex"], batch_size=options["batch_size"]
                )
            else:
                done = encrypt_rows(
                    model,
                    list(fields),
                    reindex=options["reindex"],
                    batch_size=options["batch_size"],
                )
            total += done
            self.stdout.write(f"{label}: {done} rows re-encrypted")
        self.stdout.write(
            f"{total} rows left" if options["check"] else f"{total} rows re-encrypted in all"
        )
