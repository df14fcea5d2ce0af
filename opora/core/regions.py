"""Kazakhstan's regions and cities of republican significance and Russia's federal subjects."""

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "regions.json"


def load_regions(region_model: Any) -> int:
    """Insert or update every region from the data file; returns how many there are.

    Takes the model class so that a migration can pass its historical model.
    """
    rows = json.loads(DATA.read_text(encoding="utf-8"))
    for row in rows:
        region_model.objects.update_or_create(code=row["code"], defaults=row)
    return len(rows)
