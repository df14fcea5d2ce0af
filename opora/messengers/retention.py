"""The retention purger of messenger messages (registered in `MessengersConfig.ready`, run by
`core.retention`): past the term a conversation's history lines keep their time and direction;
their text and attachments are blanked."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from opora.core.models import Service
from opora.messengers.models import ConversationMessage


def purge_messages(service: Service, cutoff: dt.datetime, limit: int, dry_run: bool) -> int:
    due = ConversationMessage.objects.filter(
        conversation__account__service=service, created_at__lt=cutoff
    ).filter(~Q(text="") | ~Q(attachments=[]))
    if dry_run:
        return due.count()
    ids = list(due.order_by("pk").values_list("pk", flat=True)[:limit])
    ConversationMessage.objects.filter(pk__in=ids).update(text="", attachments=[])
    return len(ids)
