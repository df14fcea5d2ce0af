"""Test data for evaluations: consultations that were held. Synthetic."""

from __future__ import annotations

import datetime as dt
from typing import Any

from opora.consultations import services as consultations
from opora.consultations.models import Consultation
from opora.consultations.tests.factories import make_live_consultation
from opora.intake.models import ServiceRequest

_seq = iter(range(1, 10_000))


def make_held_consultation(service: Any, consultant: Any, **request_fields: Any) -> Consultation:
    """A consultation that was admitted and ended just now (its protocol not written yet)."""
    n = next(_seq)
    room = make_live_consultation(
        service, consultant, starts_in=dt.timedelta(minutes=-5 - 61 * n), minutes=60
    )
    if request_fields:
        ServiceRequest.objects.filter(pk=room.booking.request_id).update(**request_fields)
    consultations.consultation_admit(consultation_id=room.pk, actor=consultant)
    consultations.consultation_end(consultation_id=room.pk, actor=consultant)
    return Consultation.objects.select_related("booking__request", "booking__slot").get(pk=room.pk)


ALL_FIVES = {f"q{i}": "5" for i in range(1, 8)}


def answers(score: int = 5, **extra: str) -> dict[str, str]:
    return {**{f"q{i}": str(score) for i in range(1, 8)}, **extra}
