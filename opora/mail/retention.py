"""The retention purger of incoming letters (registered in `MailConfig.ready`, run by
`core.retention`): past the term a letter keeps its dates, status, size and request link (the
written-answer SLA counts them); its sender, subject, text, raw message and attachments go."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from opora.core.models import Service
from opora.mail.models import Attachment, InboundMessage


def purge_letters(service: Service, cutoff: dt.datetime, limit: int, dry_run: bool) -> int:
    due = InboundMessage.objects.filter(mailbox__service=service, received_at__lt=cutoff).filter(
        ~Q(body_text="") | ~Q(from_address="") | ~Q(subject="") | ~Q(raw="")
    )
    if dry_run:
        return due.count()
    batch = list(due.order_by("pk")[:limit])
    for letter in batch:
        if letter.raw:
            letter.raw.delete(save=False)
        for attachment in Attachment.objects.filter(message=letter):
            if attachment.file:
                attachment.file.delete(save=False)
            attachment.delete()
    InboundMessage.objects.filter(pk__in=[m.pk for m in batch]).update(
        from_address="", from_name="", reply_to="", subject="", body_text="", raw=""
    )
    return len(batch)
