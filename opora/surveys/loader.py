"""Load the shipped instruments (`instruments.SHIPPED`) into the database.

Used by the data migration (with historical models) and by `opora load_instruments` (which also
adds a new version when a shipped definition changed, leaving old responses on theirs).
"""

from __future__ import annotations

from typing import Any

from opora.surveys.instruments import SHIPPED
from opora.surveys.scoring import validate_definition


def load_shipped(instrument_model: Any, version_model: Any, *, update: bool = False) -> list[str]:
    """Create each shipped instrument missing (and, with `update`, a new version of one whose
    definition differs); returns the codes written."""
    written = []
    for code, (name, definition, is_public) in SHIPPED.items():
        validate_definition(definition)
        instrument, _created = instrument_model.objects.get_or_create(
            code=code, defaults={"name": name, "is_public": is_public}
        )
        latest = version_model.objects.filter(instrument=instrument).order_by("-number").first()
        if latest is None:
            version_model.objects.create(instrument=instrument, number=1, definition=definition)
            written.append(code)
        elif update and latest.definition != definition:
            version_model.objects.create(
                instrument=instrument, number=latest.number + 1, definition=definition
            )
            written.append(code)
    return written
