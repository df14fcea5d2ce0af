"""The retention purger of requests (registered in `IntakeConfig.ready`, run by
`core.retention`): past the term a request keeps its dates, kind, status, channel, topic, age
and counting links; its name, IIN, contacts and free texts (with its child-help referral's) are blanked, its client and child are
unlinked, and a client card left with no request is deleted (its children and their records with
it; consent records keep their text version and times, without the client)."""

from __future__ import annotations

import datetime as dt
import operator
from functools import reduce

from django.db import models
from django.db.models import Q
from django.utils import timezone

from opora.core.models import Service
from opora.core.retention import Purger
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


def purge_with_requests(model: type[models.Model], fields: tuple[str, ...]) -> Purger:
    """The purger of the kind "requests" for an app that keeps a part of a request on its own
    rows (`model.request`; apps above intake, which cannot import them): past the request's
    term, or once the request is anonymised, `fields` are blanked and the rest of the row (what
    reports count) stays. Batched, idempotent (a blanked row no longer matches)."""
    holds = reduce(operator.or_, (~Q(**{name: ""}) for name in fields))
    blanks = dict.fromkeys(fields, "")

    def purge(service: Service, cutoff: dt.datetime, limit: int, dry_run: bool) -> int:
        due = model._default_manager.filter(
            Q(request__created_at__lt=cutoff) | Q(request__anonymised_at__isnull=False),
            holds,
            request__service=service,
        )
        if dry_run:
            return due.count()
        ids = list(due.order_by("pk").values_list("pk", flat=True)[:limit])
        model._default_manager.filter(pk__in=ids).update(**blanks)
        return len(ids)

    return purge
