"""CONTRACT (to be implemented): writes of the scheduling domain."""

import datetime as dt
from typing import Any, BinaryIO

from opora.scheduling.models import Booking, HandoffRun, Schedule


def schedule_save(
    *, actor: Any, service: Any, consultant: Any, month: dt.date, periods: list[tuple[dt.date, dt.time, dt.time]]
) -> Schedule:
    raise NotImplementedError


def schedule_import_xlsx(*, actor: Any, service: Any, month: dt.date, file: BinaryIO) -> list[Schedule]:
    raise NotImplementedError


def schedule_submit(*, actor: Any, schedule: Schedule) -> Schedule:
    raise NotImplementedError


def schedule_approve(*, actor: Any, schedule: Schedule) -> Schedule:
    raise NotImplementedError


def schedule_return(*, actor: Any, schedule: Schedule, comment: str) -> Schedule:
    raise NotImplementedError


def booking_create(*, actor: Any, request: Any, slot: Any) -> Booking:
    raise NotImplementedError


def booking_reschedule(*, actor: Any, booking: Booking, slot: Any) -> Booking:
    raise NotImplementedError


def booking_cancel(*, actor: Any, booking: Booking, reason: str = "") -> Booking:
    raise NotImplementedError


def handoff_send(*, service: Any, date: dt.date, actor: Any = None) -> HandoffRun:
    raise NotImplementedError
