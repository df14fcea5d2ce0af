"""The pages of consultations, one module per seam; this package re-exports the views so that
`consultations/urls.py` keeps naming them `views.<name>`.

- `_common`: shared helpers (the client's consultation by link, rendering, service lookups);
- `room`: the client's pages (entry, device check, room, speed test) and the consultant's room;
- `next_booking`: the next consultation, booked from the protocol screen;
- `after`: the consultant's pages after the consultation: protocol, failure, no-show, phone,
  crisis, the journal;
- `recording`: the recording's upload by the consultant's browser and its reading by the head;
- `files`: files in the chat;
- `failures`: the head's decision on technical failures, the consultant's new time;
- `preparation`: the consultant's check 30 minutes before an online consultation.
"""

from opora.consultations.views._common import (
    CONSULTATION_OF_SERVICE,
    NOTICE_SEEN,
    RECORDING_CHUNK_MS,
    RECORDING_OF_SERVICE,
    SPEED_TEST_DEFAULT_BYTES,
    SPEED_TEST_MAX_BYTES,
    VIDEO_MIN_MBIT,
    zone_label,
)
from opora.consultations.views.after import (
    crisis,
    failure_report,
    journal,
    no_show,
    phone,
    protocol_form,
)
from opora.consultations.views.failures import (
    failure_accept,
    failure_new_time,
    failure_pick,
    failure_reject,
    failures,
)
from opora.consultations.views.files import (
    client_file,
    client_file_upload,
    consultant_file,
    consultant_file_upload,
)
from opora.consultations.views.forms import (
    client_records,
    face_to_face,
    mark_held,
    start_now,
)
from opora.consultations.views.next_booking import (
    next_booking,
)
from opora.consultations.views.preparation import (
    preparation,
    preparation_for_booking,
    preparation_probe,
)
from opora.consultations.views.recording import (
    client_recording_status,
    recording_chunk,
    recording_detail,
    recording_finish,
    recording_release_done,
    recording_start,
    recordings,
)
from opora.consultations.views.room import (
    client_entry,
    client_room,
    consultant_room,
    consultant_room_for_booking,
    device_check,
    speed_test,
    warning_minutes,
)

__all__ = [
    "client_records",
    "face_to_face",
    "mark_held",
    "start_now",
    "CONSULTATION_OF_SERVICE",
    "NOTICE_SEEN",
    "RECORDING_CHUNK_MS",
    "RECORDING_OF_SERVICE",
    "SPEED_TEST_DEFAULT_BYTES",
    "SPEED_TEST_MAX_BYTES",
    "VIDEO_MIN_MBIT",
    "client_entry",
    "client_file",
    "client_file_upload",
    "client_recording_status",
    "client_room",
    "consultant_file",
    "consultant_file_upload",
    "consultant_room",
    "consultant_room_for_booking",
    "crisis",
    "device_check",
    "failure_accept",
    "failure_new_time",
    "failure_pick",
    "failure_reject",
    "failure_report",
    "failures",
    "journal",
    "next_booking",
    "no_show",
    "phone",
    "preparation",
    "preparation_for_booking",
    "preparation_probe",
    "protocol_form",
    "recording_chunk",
    "recording_detail",
    "recording_finish",
    "recording_release_done",
    "recording_start",
    "recordings",
    "speed_test",
    "warning_minutes",
    "zone_label",
]
