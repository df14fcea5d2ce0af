"""A month of synthetic 1411 data: requests, hand-offs and consultations (no real person)."""

import datetime as dt
import itertools
import secrets

from opora.consultations.models import Consultation
from opora.core.models import Region
from opora.intake.models import Client, ServiceRequest
from opora.scheduling import services as scheduling_services
from opora.scheduling.calendar import make_aware_local
from opora.scheduling.models import Booking
from opora.scheduling.tests.factories import make_slot

D, T = dt.date, dt.time
MONTH = D(2026, 3, 1)
_seq = itertools.count(1)


def region(code: str, name: str) -> Region:
    return Region.objects.get_or_create(
        code=code,
        defaults={
            "country": "KZ",
            "kind": "region",
            "name_ru": name,
            "name_kk": name,
            "name_en": name,
        },
    )[0]


def client() -> Client:
    n = next(_seq)
    return Client.objects.create(
        last_name=f"Клиентова{n}", first_name="Анна", iin=f"{880000000000 + n}"
    )


def request_at(service, when: dt.datetime, *, who=None, where=None) -> ServiceRequest:
    n = next(_seq)
    req = ServiceRequest.objects.create(
        service=service,
        client=who,
        full_name=f"Заявителева Мария {n}",
        iin=who.iin if who else "",
        phone=f"+7701200{n:04d}",
        region=where,
    )
    ServiceRequest.objects.filter(pk=req.pk).update(created_at=when)
    req.refresh_from_db()
    return req


def serve(service, consultant, req, day: dt.date, hour: int, *, status="ended") -> Consultation:
    slot = make_slot(service, consultant, day, T(hour))
    booking = Booking.objects.create(slot=slot, request=req)
    ServiceRequest.objects.filter(pk=req.pk).update(
        status="done" if status == "ended" else "booked"
    )
    return Consultation.objects.create(
        booking=booking,
        status=status,
        client_token=secrets.token_hex(16),
        started_at=slot.starts_at if status == "ended" else None,
        ended_at=slot.ends_at if status == "ended" else None,
    )


def handoff(service, day: dt.date):
    return scheduling_services.handoff_send(
        service=service, date=day, now=make_aware_local(service, day, T(17, 45))
    )


def month_of_data(service, consultant, other_consultant) -> dict:
    """March 2026 (the 10th, 11th and 31st are working days):
    - Алматы: client A with two requests, both handed over and served (1 person, 2 requests);
      client B, handed over, not served; an anonymous request, handed over and served.
    - Астана: client C, handed over on 31 March, served in April (not in March's served).
    - a request of 28 February handed over in February, served in March by the other consultant.
    """
    ala, ast = region("KZ-ALA", "Алматы"), region("KZ-AST", "Астана")
    a, b, c, d = client(), client(), client(), client()
    at = lambda day, h: make_aware_local(service, day, T(h))  # noqa: E731
    feb = request_at(service, at(D(2026, 2, 27), 10), who=d, where=ast)
    handoff(service, D(2026, 2, 27))
    a1 = request_at(service, at(D(2026, 3, 10), 9), who=a, where=ala)
    a2 = request_at(service, at(D(2026, 3, 10), 11), who=a, where=ala)
    b1 = request_at(service, at(D(2026, 3, 10), 12), who=b, where=ala)
    anon = request_at(service, at(D(2026, 3, 11), 10), where=ala)
    c1 = request_at(service, at(D(2026, 3, 31), 10), who=c, where=ast)
    late = request_at(service, at(D(2026, 3, 31), 17) + dt.timedelta(minutes=30), who=c, where=ast)
    for day in (D(2026, 3, 10), D(2026, 3, 11), D(2026, 3, 31), D(2026, 4, 1)):
        handoff(service, day)
    serve(service, consultant, a1, D(2026, 3, 12), 14)
    serve(service, consultant, a2, D(2026, 3, 13), 14)
    serve(service, consultant, anon, D(2026, 3, 16), 15)
    serve(service, other_consultant, feb, D(2026, 3, 2), 15)
    serve(service, consultant, c1, D(2026, 4, 2), 14)
    serve(service, consultant, b1, D(2026, 3, 20), 16, status="no_show")
    return {"a1": a1, "a2": a2, "b1": b1, "anon": anon, "c1": c1, "late": late, "feb": feb}
