"""CONTRACT (to be implemented): reads of the scheduling domain."""

import datetime as dt
from typing import Any

from opora.scheduling.models import Slot


def slot_nearest_free(*, service: Any, consultant: Any = None, after: dt.datetime | None = None) -> Slot | None:
    raise NotImplementedError


def slots_free_on_date(*, service: Any, date: dt.date, consultant: Any = None) -> list[Slot]:
    raise NotImplementedError
