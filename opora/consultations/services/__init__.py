"""Writes of consultations, one module per seam; this package re-exports their names so callers
keep importing from `opora.consultations.services`.

- `room`: the room per booking, who is connected, admission, mode, chat, end;
- `after`: after (or instead of) the consultation: protocol, no-show, phone, crisis, the journal;
- `failures`: the technical failure, reported by the consultant and decided by the head;
- `preparation`: the consultant's check 30 minutes before an online consultation;
- `recording`: the recording, its chunks, reading and release;
- `files`: files in the chat;
- `next_booking`: the next consultation, booked from the protocol screen.

Row locks are taken through `opora.consultations.locks`.
"""

from opora.consultations.services.after import (
    PROTOCOL_FIELDS,
    consultation_mark_no_show,
    consultation_mark_phone,
    crisis_alert_create,
    journal_read_record,
    journal_workbook,
    protocol_save,
)
from opora.consultations.services.failures import (
    technical_failure_accept,
    technical_failure_pick_time,
    technical_failure_reject,
    technical_failure_report,
)
from opora.consultations.services.files import (
    chat_file_create,
    chat_file_read,
)
from opora.consultations.services.forms import (
    NOW_FORMS,
    consultation_close_written,
    consultation_mark_held,
    consultation_note_recording,
    consultation_start_now,
    consultation_take_written,
)
from opora.consultations.services.next_booking import (
    next_consultation_book,
    slot_when,
)
from opora.consultations.services.preparation import (
    preparation_record,
)
from opora.consultations.services.recording import (
    RECORDING_ABANDONED_AFTER,
    RECORDING_MAX_SEQ,
    RECORDING_MIME_TYPES,
    RELEASE_WORKING_DAYS,
    recording_access_record,
    recording_chunk_max_bytes,
    recording_chunk_store,
    recording_finish,
    recording_read,
    recording_release_create,
    recording_release_mark_released,
    recording_start,
    recordings_close_abandoned,
)
from opora.consultations.services.room import (
    CHAT_MAX_CHARS,
    CLOSED_STATUSES,
    chat_message_create,
    consultation_admit,
    consultation_attach,
    consultation_detach,
    consultation_end,
    consultation_for_booking,
    consultation_record_consent,
    consultation_record_notice,
    consultation_set_mode,
)

__all__ = [
    "NOW_FORMS",
    "consultation_close_written",
    "consultation_mark_held",
    "consultation_note_recording",
    "consultation_start_now",
    "consultation_take_written",
    "CHAT_MAX_CHARS",
    "CLOSED_STATUSES",
    "PROTOCOL_FIELDS",
    "RECORDING_ABANDONED_AFTER",
    "RECORDING_MAX_SEQ",
    "RECORDING_MIME_TYPES",
    "RELEASE_WORKING_DAYS",
    "chat_file_create",
    "chat_file_read",
    "chat_message_create",
    "consultation_admit",
    "consultation_attach",
    "consultation_detach",
    "consultation_end",
    "consultation_for_booking",
    "consultation_mark_no_show",
    "consultation_mark_phone",
    "consultation_record_consent",
    "consultation_record_notice",
    "consultation_set_mode",
    "crisis_alert_create",
    "journal_read_record",
    "journal_workbook",
    "next_consultation_book",
    "protocol_save",
    "recording_access_record",
    "recording_chunk_max_bytes",
    "recording_chunk_store",
    "recording_finish",
    "recording_read",
    "recording_release_create",
    "recording_release_mark_released",
    "recording_start",
    "recordings_close_abandoned",
    "slot_when",
    "preparation_record",
    "technical_failure_accept",
    "technical_failure_pick_time",
    "technical_failure_reject",
    "technical_failure_report",
]
