"""Factories for tests and benchmarks. Everything they make is synthetic."""

import datetime as dt
import itertools
from typing import Any

from opora.accounts.models import Role, User
from opora.core.models import Organisation, Service

_seq = itertools.count(1)


def make_organisation(**kw) -> Organisation:
    n = next(_seq)
    defaults = {
        "name": f"Organisation {n}",
        "short_name": f"Org{n}",
        "kind": "other",
        "country": "KZ",
    }
    defaults.update(kw)
    return Organisation.objects.create(**defaults)


def make_service_1411(**kw) -> Service:
    """The Kazakh 1411 profile of regulations 000/001."""
    ministry = make_organisation(
        name="Министерство (синтетическое)", kind="ministry", short_name="МЗСР"
    )
    gcvp = make_organisation(name="ГЦВП (синтетический)", kind="call_centre", short_name="ГЦВП")
    univ = make_organisation(
        name="Университет (синтетический)", kind="university", short_name="КРМУ"
    )
    defaults = {
        "code": "kz-1411",
        "name": "Служба онлайн поддержки 1411",
        "country": "KZ",
        "time_zone": "Asia/Almaty",
        "holiday_calendar": "KZ",
        "intake_organisation": gcvp,
        "provider_organisation": univ,
        "authority": ministry,
        "booking_opens": dt.time(9),
        "booking_closes": dt.time(18),
        "consultation_opens": dt.time(14),
        "consultation_closes": dt.time(18),
        "slot_minutes": 60,
        "channels": ["phone"],
        "eligibility_rule": Service.Eligibility.KZ_REGISTRY,
        "recording_policy": Service.RecordingPolicy.NOTICE,
        "handoff_time": dt.time(17, 45),
        "handoff_email": "university@example.org",
        "join_instructions": "Ссылка для подключения придёт по SMS и e-mail.",
        "change_instructions": "Чтобы изменить запись, позвоните на 1411.",
        "public_phone": "1411",
    }
    defaults.update(kw)
    return Service.objects.create(**defaults)


def make_district_service(**kw) -> Service:
    """A Russian district office profile (regulations 002/004): anonymous requests and
    self-booking allowed, no IIN check, recording only with consent."""
    org = make_organisation(name="Управление соцзащиты (синтетическое)", country="RU")
    defaults = {
        "code": "district",
        "name": "Дистанционное консультирование семей",
        "country": "RU",
        "time_zone": "Europe/Moscow",
        "holiday_calendar": "RU",
        "intake_organisation": org,
        "provider_organisation": org,
        "channels": ["email", "phone", "portal", "telegram"],
        "public_email": "help@example.org",
        "public_phone": "+7 834 200 00 00",
        "public_description": "Консультации психолога и специалиста по социальной работе.",
        "complaint_instructions": "Жалобу можно направить на help@example.org.",
        "allows_anonymous": True,
        "allows_self_booking": True,
        "recording_policy": Service.RecordingPolicy.CONSENT,
    }
    defaults.update(kw)
    return Service.objects.create(**defaults)


def make_user(
    role: str, *, username: str | None = None, service: Service | None = None, **kw
) -> User:
    n = next(_seq)
    user = User.objects.create_user(
        username=username or f"{role}{n}",
        password=kw.pop("password", "pass-Word-123"),
        role=role,
        first_name=kw.pop("first_name", f"Имя{n}"),
        last_name=kw.pop("last_name", f"Фамилия{n}"),
        **kw,
    )
    if service is not None:
        user.services.add(service)
    return user


def make_consultant(service: Service, **kw) -> User:
    return make_user(
        Role.CONSULTANT, service=service, organisation=service.provider_organisation, **kw
    )


def make_admin(**kw) -> User:
    return make_user(Role.ADMIN, **kw)


def make_held_consultation(
    *,
    request: Any,
    slot: Any,
    consultant: User,
    child_name: str = "Сидоров Петя",
    child_age: int = 7,
    minutes: int = 45,
) -> Any:
    """A booking of `slot` for `request`, its consultation held for `minutes` by video, and the
    protocol the consultant wrote (topic 1 of regulation 002, a primary consultation)."""
    import secrets

    from opora.consultations.models import Consultation, Protocol
    from opora.scheduling.models import Booking

    booking = Booking.objects.create(slot=slot, request=request, status="active")
    consultation = Consultation.objects.create(
        booking=booking,
        status="ended",
        mode="video",
        client_token=secrets.token_urlsafe(16),
        started_at=slot.starts_at,
        ended_at=slot.starts_at + dt.timedelta(minutes=minutes),
    )
    Protocol.objects.create(
        consultation=consultation,
        child_name=child_name,
        child_age=child_age,
        reason="Нарушение сна",
        topic="1",
        solution="Режим дня",
        kind="primary",
        written_by=consultant,
    )
    return consultation


def make_registry_record(**fields: Any) -> Any:
    """A registry record (ЦБД/ЦБДИ): the IINs, names and disability group are sealed into one
    encrypted value by the model (`registry.sealing`), so they are given as keyword arguments
    of the model's properties, which the type stubs do not know as fields."""
    from opora.registry.models import RegistryRecord

    return RegistryRecord.objects.create(**fields)
