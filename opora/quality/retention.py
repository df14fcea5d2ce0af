"""Quality's part of the requests' retention (registered in `QualityConfig.ready` under the kind
"requests", run by `core.retention` beside intake's purger, which cannot import quality): past the
request's term, or once the request is anonymised, its evaluation keeps its scores, channel, form
and dates (what the quality reports count) but not the free text the client wrote (impressions,
wishes), which may name the family."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from opora.core.models import Service
from opora.quality.models import Evaluation


def purge_evaluation_texts(service: Service, cutoff: dt.datetime, limit: int, dry_run: bool) -> int:
    due = Evaluation.objects.filter(
        Q(request__created_at__lt=cutoff) | Q(request__anonymised_at__isnull=False),
        ~Q(impressions="") | ~Q(wishes=""),
        request__service=service,
    )
    if dry_run:
        return due.count()
    ids = list(due.order_by("pk").values_list("pk", flat=True)[:limit])
    Evaluation.objects.filter(pk__in=ids).update(impressions="", wishes="")
    return len(ids)
