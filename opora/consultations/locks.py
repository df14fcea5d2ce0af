"""The row locks of consultations, in one place (every `select_for_update` of the app is here).

Each function returns a queryset that locks the rows it reads; the caller narrows it (`.get()`,
`.filter()`, `.select_related()`) inside its own transaction.
"""

from __future__ import annotations

from django.db.models import QuerySet

from opora.consultations.models import (
    Consultation,
    Recording,
    RecordingRelease,
    TechnicalFailure,
)


def consultation_qs_select_for_update(*, of_self: bool = False) -> QuerySet[Consultation]:
    """`of_self`: only the consultation's own row, not the rows joined by `select_related`."""
    if of_self:
        return Consultation.objects.select_for_update(of=("self",))
    return Consultation.objects.select_for_update()


def recording_qs_select_for_update() -> QuerySet[Recording]:
    return Recording.objects.select_for_update()


def recording_release_qs_select_for_update() -> QuerySet[RecordingRelease]:
    return RecordingRelease.objects.select_for_update()


def technical_failure_qs_select_for_update() -> QuerySet[TechnicalFailure]:
    """Only the failure's own row: the head's decisions on one failure queue behind each other."""
    return TechnicalFailure.objects.select_for_update(of=("self",))
