"""The written answers' SLA for the dashboards (registered in `journals.dashboards` from this
app's `ready`, since journals sits below mail and must not import it).

A letter (registered, with a due day computed at receipt from the service's calendar: 3 working
days, holidays skipped — `services.answer_due_on`) is due once it is answered or its due day has
passed; it meets the target when its answer was written on or before the due day (local date).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.journals.dashboards import DashboardFilter, Sla, miss_rows
from opora.mail.models import InboundMessage


def sla_written(f: DashboardFilter, *, today: dt.date | None = None) -> Sla:
    today = today or timezone.localdate()
    qs = (
        InboundMessage.objects.filter(
            request__service__in=f.services(),
            received_at__gte=f.start,
            received_at__lt=f.end,
            due_on__isnull=False,
        )
        .exclude(status=InboundMessage.Status.QUARANTINED)
        .annotate(
            answered_on=TruncDate(Coalesce("answered_by__sent_at", "answered_by__created_at"))
        )
        .filter(Q(answered_by__isnull=False) | Q(due_on__lt=today))
    )
    if f.region_id:
        qs = qs.filter(request__region_id=f.region_id)
    met = Q(answered_by__isnull=False, answered_on__lte=F("due_on"))
    counts = qs.aggregate(due=Count("id"), met=Count("id", filter=met))
    misses = qs.exclude(met).order_by("received_at")
    return Sla(
        key="written",
        name=_("Written answers within 3 working days"),
        target=_("Every letter answered by its due day (the service's calendar)"),
        due=counts["due"],
        met=counts["met"],
        misses=miss_rows(
            misses, f, "request_id", "request__public_code", "received_at", "due_on", "answered_on"
        ),
    )
