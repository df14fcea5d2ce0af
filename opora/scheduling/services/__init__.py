"""Writes of the scheduling domain, one module per seam; this package re-exports their names so
callers keep importing from `opora.scheduling.services`.

- `_common`: roles, permission checks, small helpers, `ScheduleInvalid`;
- `schedules`: save, submit, approve, return; materialising the slots;
- `schedule_import`: the XLSX import of schedules;
- `bookings`: the locks and compiled lock queries, book, reschedule, cancel, the change-check
  registry and the client's notices;
- `handoff`: the day's workbook and its sending.

Row locks are taken through `opora.scheduling.locks`.
"""

from opora.scheduling.services._common import (
    BOOKING_ROLES,
    HANDOFF_ROLES,
    LOCK_NOT_AVAILABLE,
    SCHEDULE_APPROVERS,
    SCHEDULE_EDITORS,
    SCHEDULE_SUBMITTERS,
    XLSX_MIME,
    ScheduleInvalid,
)
from opora.scheduling.services.bookings import (
    REQUEST_ENDED,
    SHORT_LINK_KEPT,
    BookingChangeCheck,
    _compiled_queries,
    _fetch_compiled,
    _lock_request_and_slot,
    _locked_request_query,
    _locked_slots_query,
    booking_cancel,
    booking_change_check_register,
    booking_client_link,
    booking_create,
    booking_notify_client,
    booking_reschedule,
    booking_start_now,
    slot_end_ad_hoc,
    slot_problem,
)
from opora.scheduling.services.handoff import (
    HANDOFF_COLUMNS,
    handoff_lists,
    handoff_send,
    handoff_workbook,
)
from opora.scheduling.services.places import (
    place_deactivate,
    place_delete,
    place_update,
)
from opora.scheduling.services.schedule_import import (
    schedule_import_xlsx,
)
from opora.scheduling.services.schedules import (
    place_create,
    schedule_approve,
    schedule_return,
    schedule_save,
    schedule_submit,
    slot_set_form,
)

__all__ = [
    "BOOKING_ROLES",
    "BookingChangeCheck",
    "HANDOFF_COLUMNS",
    "HANDOFF_ROLES",
    "LOCK_NOT_AVAILABLE",
    "REQUEST_ENDED",
    "SCHEDULE_APPROVERS",
    "SCHEDULE_EDITORS",
    "SCHEDULE_SUBMITTERS",
    "SHORT_LINK_KEPT",
    "ScheduleInvalid",
    "XLSX_MIME",
    "_compiled_queries",
    "_fetch_compiled",
    "_lock_request_and_slot",
    "_locked_request_query",
    "_locked_slots_query",
    "booking_cancel",
    "booking_change_check_register",
    "booking_client_link",
    "booking_create",
    "booking_notify_client",
    "booking_reschedule",
    "handoff_lists",
    "booking_start_now",
    "place_create",
    "place_deactivate",
    "place_delete",
    "place_update",
    "slot_set_form",
    "slot_end_ad_hoc",
    "handoff_send",
    "handoff_workbook",
    "schedule_approve",
    "schedule_import_xlsx",
    "schedule_return",
    "schedule_save",
    "schedule_submit",
    "slot_problem",
]
