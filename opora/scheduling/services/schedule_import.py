"""The XLSX import of consultant schedules (one sheet, a row per period)."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any, BinaryIO

from django.db import (
    transaction,
)
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from opora.accounts.actors import StaffActor
from opora.accounts.models import Role, User
from opora.core.errors import DomainError
from opora.scheduling.calendar import ServiceCalendar
from opora.scheduling.models import Schedule
from opora.scheduling.services._common import (
    SCHEDULE_EDITORS,
    ScheduleInvalid,
    _editable_or_explain,
    _overlap_errors,
    _period_errors,
    _require,
)
from opora.scheduling.services.schedules import schedule_save


def _norm_name(value: str) -> str:
    return " ".join(value.casefold().replace("ё", "е").split())


def _consultant_index(service: Any) -> dict[str, set[int]]:
    index: dict[str, set[int]] = defaultdict(set)
    users = User.objects.filter(role=Role.CONSULTANT, is_active=True, services=service)
    for u in users:
        names = {
            u.username,
            f"{u.last_name} {u.first_name} {u.patronymic}",
            f"{u.last_name} {u.first_name}",
            f"{u.first_name} {u.last_name}",
            f"{u.first_name} {u.patronymic} {u.last_name}",
        }
        for name in names:
            key = _norm_name(name)
            if key:
                index[key].add(u.pk)
    return index


_DATE_PATTERNS = ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y", "%d/%m/%Y")


def _cell_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and 1 <= value < 200000:
        from openpyxl.utils.datetime import from_excel

        converted = from_excel(value)
        return converted.date() if isinstance(converted, dt.datetime) else None
    if isinstance(value, str):
        text = value.strip()
        for pattern in _DATE_PATTERNS:
            try:
                return dt.datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a date only
            except ValueError:
                continue
    return None


_TIME_RE = re.compile(r"^(\d{1,2})[:.](\d{2})(?::(\d{2}))?$")


def _cell_time(value: Any) -> dt.time | None:
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, dt.time):
        return value
    if isinstance(value, float) and 0 <= value < 1:
        minutes = round(value * 24 * 60)
        return dt.time(minutes // 60, minutes % 60) if minutes < 24 * 60 else None
    if isinstance(value, str):
        match = _TIME_RE.match(value.strip())
        if match:
            hour, minute = int(match.group(1)), int(match.group(2))
            if hour < 24 and minute < 60:
                return dt.time(hour, minute)
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def schedule_import_xlsx(
    *, actor: StaffActor, service: Any, month: dt.date, file: BinaryIO
) -> list[Schedule]:
    """Import a month of schedules from XLSX: consultant (username or full name) | date | from | to.

    The first row is a header. Every bad row is reported with its row number in one
    `ScheduleInvalid`; if any row is bad nothing is written. The periods of each consultant named
    in the file replace that consultant's periods for the month.
    """
    _require(
        actor,
        SCHEDULE_EDITORS,
        service=service,
        message=_("Only a coordinator, the head or an administrator may import schedules."),
    )
    month = month.replace(day=1)
    import openpyxl  # here, not at every process's start-up

    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable upload gets the same clear answer
        raise DomainError(
            _("The file could not be read as an Excel workbook (.xlsx)."), code="bad_file"
        ) from exc
    sheet = workbook.worksheets[0]
    index = _consultant_index(service)
    calendar = ServiceCalendar(service)
    errors: list[str] = []
    plan: dict[int, list[tuple[dt.date, dt.time, dt.time, int]]] = defaultdict(list)
    first_row: dict[int, int] = {}
    seen_rows = 0

    def row_error(row: int, problem: str) -> None:
        errors.append(_("Row %(row)d: %(problem)s") % {"row": row, "problem": problem})

    for row_no, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        cells = (list(values) + [None] * 4)[:4]
        if all(_blank(c) for c in cells):
            continue
        seen_rows += 1
        who, day, start_raw, end_raw = cells
        consultant_pk = None
        if _blank(who):
            row_error(row_no, _("the consultant is missing"))
        else:
            matches = index.get(_norm_name(str(who)), set())
            if not matches:
                row_error(
                    row_no,
                    _("no consultant of this service is called “%(name)s”") % {"name": who},
                )
            elif len(matches) > 1:
                row_error(
                    row_no,
                    _("“%(name)s” matches several consultants; use the username") % {"name": who},
                )
            else:
                consultant_pk = next(iter(matches))
        date = _cell_date(day)
        if date is None:
            row_error(
                row_no,
                _("“%(value)s” is not a date (use DD.MM.YYYY)")
                % {"value": "" if day is None else day},
            )
        start, end = _cell_time(start_raw), _cell_time(end_raw)
        columns = (
            (start_raw, start, pgettext("schedule column", "from")),
            (end_raw, end, pgettext("schedule column", "to")),
        )
        for raw, parsed, label in columns:
            if parsed is None:
                row_error(
                    row_no,
                    _("“%(value)s” in the column “%(column)s” is not a time (use HH:MM)")
                    % {"value": "" if raw is None else raw, "column": label},
                )
        if date is None or start is None or end is None:
            continue
        for problem in _period_errors(
            service=service, calendar=calendar, month=month, date=date, start=start, end=end
        ):
            row_error(row_no, problem)
        if consultant_pk is not None:
            plan[consultant_pk].append((date, start, end, row_no))
            first_row.setdefault(consultant_pk, row_no)
    workbook.close()

    if not seen_rows:
        raise DomainError(_("The file has no schedule rows under the header."), code="empty_file")
    consultants = User.objects.in_bulk(list(plan))
    for pk, items in plan.items():
        errors += _overlap_errors((d, s, e, _("row %(row)d") % {"row": r}) for d, s, e, r in items)
        existing = (
            Schedule.objects.filter(service=service, consultant_id=pk, month=month)
            .select_related("consultant")
            .first()
        )
        if existing is not None:
            try:
                _editable_or_explain(existing)
            except DomainError as exc:
                row_error(first_row[pk], str(exc.message))
    if errors:
        raise ScheduleInvalid(
            errors, header=_("The file was not imported; fix these rows and try again:")
        )

    schedules = []
    with transaction.atomic():
        for pk, items in plan.items():
            schedules.append(
                schedule_save(
                    actor=actor,
                    service=service,
                    consultant=consultants[pk],
                    month=month,
                    periods=[(d, s, e) for d, s, e, _row in items],
                )
            )
    return schedules
