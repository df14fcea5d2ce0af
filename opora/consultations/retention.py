"""The retention purgers of consultations (registered in `ConsultationsConfig.ready`, run by
`core.retention`): past the term the chat's messages and files are deleted (the consultation,
its dates, form, status and protocol stay), and a recording's encrypted media is deleted (the
recording's row stays: when, how long, how big, under which policy — a complaint can still see
that there was one and that its term ran out)."""

from __future__ import annotations

import datetime as dt

from opora.consultations.models import ChatAttachment, ChatMessage, RecordingChunk
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
