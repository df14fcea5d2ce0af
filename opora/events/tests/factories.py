from __future__ import annotations

import datetime as dt

from django.utils import timezone

from opora.accounts.models import User
from opora.core.models import Service
from opora.events import services
from opora.events.models import Event


def make_event(
    service: Service,
    lead: User,
    *,
    capacity: int = 20,
    kind: str = Event.Kind.WEBINAR,
    starts_in: dt.timedelta = dt.timedelta(days=2),
    duration_minutes: int = 60,
) -> Event:
    return services.event_create(
        actor=lead,
        service=service,
        kind=kind,
        title_ru="Вебинар о подростках",
        title_en="Teenagers webinar",
        starts_at=timezone.now() + starts_in,
        duration_minutes=duration_minutes,
        capacity=capacity,
        lead=lead,
    )


def phone(i: int) -> str:
    return f"+7701{i:07d}"
