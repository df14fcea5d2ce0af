"""The retention purgers of messengers (registered in `MessengersConfig.ready`, run by
`core.retention`): past the term a conversation's history lines keep their time and direction;
their text and attachments are blanked. The stored webhook deliveries (`InboundUpdate`, the raw
message with the client's text, name and phone) are deleted once handled and past their own
term: they served de-duplication of the provider's retries, which come within hours; the history
line a delivery made stays (its link to the delivery is cleared)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from opora.core.models import Service
from opora.messengers.models import ConversationMessage, InboundUpdate


def purge_messages(service: Service, cutoff: dt.datetime, limit: int, dry_run: bool) -> int:
    # The attachments are sealed (even an empty list): a blanked line has NULL there instead.
    due = ConversationMessage.objects.filter(
        conversation__account__service=service, created_at__lt=cutoff
    ).filter(~Q(text="") | Q(attachments__isnull=False))
    if dry_run:
        return due.count()
    ids = list(due.order_by("pk").values_list("pk", flat=True)[:limit])
    ConversationMessage.objects.filter(pk__in=ids).update(text="", attachments=None)
    return len(ids)


def purge_updates(service: Service, cutoff: dt.datetime, limit: int, dry_run: bool) -> int:
    """Delete the handled deliveries received before `cutoff` (one the sweep will still retry
    is left to it: it is the only copy of that message)."""
    from opora.messengers.services import MAX_PROCESS_ATTEMPTS

    due = InboundUpdate.objects.filter(account__service=service, received_at__lt=cutoff).filter(
        Q(status=InboundUpdate.Status.PROCESSED)
        | Q(status=InboundUpdate.Status.FAILED, attempts__gte=MAX_PROCESS_ATTEMPTS)
    )
    if dry_run:
        return due.count()
    ids = list(due.order_by("pk").values_list("pk", flat=True)[:limit])
    ConversationMessage.objects.filter(inbound_update_id__in=ids).update(inbound_update=None)
    InboundUpdate.objects.filter(pk__in=ids).delete()
    return len(ids)
