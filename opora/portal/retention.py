"""The portal's part of the requests' retention (registered in `PortalConfig.ready` under the
kind "requests", run by `core.retention` beside intake's purger, which cannot import portal): past
the request's term, or once the request is anonymised, its portal submission keeps its channel,
language and date but not the messenger contact the client gave for the answer."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from opora.core.models import Service
from opora.portal.models import PortalSubmission


def purge_reply_contacts(service: Service, cutoff: dt.datetime, limit: int, dry_run: bool) -> int:
    due = PortalSubmission.objects.filter(
        Q(request__created_at__lt=cutoff) | Q(request__anonymised_at__isnull=False),
        request__service=service,
    ).exclude(reply_contact="")
    if dry_run:
        return due.count()
    ids = list(due.order_by("pk").values_list("pk", flat=True)[:limit])
    PortalSubmission.objects.filter(pk__in=ids).update(reply_contact="")
    return len(ids)
