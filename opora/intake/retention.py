"""The retention purger of requests (registered in `IntakeConfig.ready`, run by
`core.retention`): past the term a request keeps its dates, kind, status, channel, topic, age
and counting links; its name, IIN, contacts and free texts (with its child-help referral's) are blanked, its client and child are
unlinked, and a client card left with no request is deleted (its children and their records with
it; consent records keep their text version and times, without the client)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from opora.core.models import Service
from opora.intake.models import ChildHelpReferral, Client, ServiceRequest

PERSONAL_BLANKS = {
    "full_name": "",
    "iin": "",
    # The blind indexes too (a QuerySet.update() does not recompute them): a kept hash of the
    # IIN or phone would still find the anonymised request.
    "iin_bidx": "",
    "phone_bidx": "",
    "email_bidx": "",
    "phone": "",
    "phone_extra": "",
    "email": "",
    "reason": "",
    "referral_text": "",
    "refusal_note": "",
    "region": None,
    "client": None,
    "child": None,
    "desired_at": None,
}


def purge_requests(service: Service, cutoff: dt.datetime, limit: int, dry_run: bool) -> int:
    due = ServiceRequest.objects.filter(
        service=service, created_at__lt=cutoff, anonymised_at__isnull=True
    )
    if dry_run:
        return due.count()
    batch = list(due.order_by("pk").values_list("pk", "client_id")[:limit])
    if not batch:
        return 0
    ids = [pk for pk, _client in batch]
    ServiceRequest.objects.filter(pk__in=ids).update(
        anonymised_at=timezone.now(), **PERSONAL_BLANKS
    )
    # The referral for the child's direct help keeps that it was made (and to whom), not what the
    # child needs nor the message the client was sent.
    ChildHelpReferral.objects.filter(request_id__in=ids).update(note="", message="")
    clients = {c for _pk, c in batch if c is not None}
    Client.objects.filter(pk__in=clients, requests__isnull=True).delete()
    return len(ids)
