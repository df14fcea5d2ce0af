"""The retention purgers of consultations (registered in `ConsultationsConfig.ready`, run by
`core.retention`): past the term the chat's messages and files are deleted (the consultation,
its dates, form, status and protocol stay), and a recording's encrypted media is deleted (the
recording's row stays: when, how long, how big, under which policy — a complaint can still see
that there was one and that its term ran out). A protocol keeps what the journals count and
loses its names and texts."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from opora.consultations.models import ChatAttachment, ChatMessage, Protocol, RecordingChunk
from opora.consultations.recording import delete_blob
from opora.core.models import Service


def purge_chat(service: Service, cutoff: dt.datetime, limit: int, dry_run: bool) -> int:
    due = ChatMessage.objects.filter(
        consultation__booking__slot__service=service, created_at__lt=cutoff
    )
    if dry_run:
        return due.count()
    ids = list(due.order_by("pk").values_list("pk", flat=True)[:limit])
    for name in ChatAttachment.objects.filter(message_id__in=ids).values_list(
        "storage_name", flat=True
    ):
        delete_blob(name)
    ChatMessage.objects.filter(pk__in=ids).delete()
    return len(ids)


def purge_recordings(service: Service, cutoff: dt.datetime, limit: int, dry_run: bool) -> int:
    """Counted in chunks (a recording's media is many): the rows go with their files."""
    due = RecordingChunk.objects.filter(
        recording__consultation__booking__slot__service=service,
        recording__started_at__lt=cutoff,
        recording__status__in=["finished", "interrupted"],
    )
    if dry_run:
        return due.count()
    batch = list(due.order_by("pk").values_list("pk", "storage_name")[:limit])
    for _pk, name in batch:
        delete_blob(name)
    RecordingChunk.objects.filter(pk__in=[pk for pk, _name in batch]).delete()
    return len(batch)


# The protocol's personal and free-text fields (core.sensitive); what journals and reports count
# stays: the consultation (date, form, status), the protocol's topic, kind, child's age,
# duration, pages of materials and whether the child was present.
PROTOCOL_TEXT_FIELDS = (
    "child_name",
    "reason",
    "solution",
    "materials",
    "next_consultation",
    "note",
)


def purge_protocols(service: Service, cutoff: dt.datetime, limit: int, dry_run: bool) -> int:
    """Blank the texts of the protocols written before `cutoff` (counted by the protocol's own
    date: it is written after the consultation)."""
    not_blank = Q(pk__in=[])
    for name in PROTOCOL_TEXT_FIELDS:
        not_blank |= ~Q(**{name: ""})
    due = Protocol.objects.filter(
        consultation__booking__slot__service=service, created_at__lt=cutoff
    ).filter(not_blank)
    if dry_run:
        return due.count()
    ids = list(due.order_by("pk").values_list("pk", flat=True)[:limit])
    # `update` keeps `updated_at` (an edit date a report may show) and skips the journals'
    # signal: the rows they count do not change.
    Protocol.objects.filter(pk__in=ids).update(**dict.fromkeys(PROTOCOL_TEXT_FIELDS, ""))
    return len(ids)
