"""Demo data of the intake app (synthetic): a handful of referral directory entries, KZ and RU.

The organisations, phones and addresses are invented; e-mail addresses use example.org.
"""

from __future__ import annotations

from typing import Any

from opora.core.models import Region
from opora.intake.models import Referral

_ENTRIES: list[dict[str, str | None]] = [
    {
        "name": "Центр ранней помощи «Бастау» (демо)",
        "helps_with": "Ранняя помощь детям до 3 лет: логопед, дефектолог, ЛФК; аутизм, задержка развития",
        "country": "KZ",
        "region": "KZ-75",
        "phone": "+7 727 000 00 01",
        "email": "bastau@example.org",
        "address": "г. Алматы, ул. Примерная, 1",
        "hours": "Пн–Пт 9:00–18:00",
    },
    {
        "name": "Отдел занятости и социальных программ (демо)",
        "helps_with": "Пособия, специальные социальные услуги, индивидуальная программа реабилитации, льготы",
        "country": "KZ",
        "region": "KZ-71",
        "phone": "+7 717 000 00 02",
        "address": "г. Астана, пр. Образцовый, 2",
        "hours": "Пн–Пт 9:00–18:30",
    },
    {
        "name": "Психолого-медико-педагогическая консультация (демо)",
        "helps_with": "Обследование ребёнка, рекомендации по обучению, инклюзивное образование, школа, детский сад",
        "country": "KZ",
        "region": None,
        "phone": "+7 700 000 00 03",
        "website": "https://pmpk.example.org",
    },
    {
        "name": "Центр психолого-педагогической, медицинской и социальной помощи (демо)",
        "helps_with": "Психолог для ребёнка, занятия с ребёнком, коррекция поведения",
        "country": "RU",
        "region": "RU-MO",
        "phone": "+7 834 000 00 04",
        "email": "ppms@example.org",
        "hours": "Пн–Пт 8:30–17:30",
    },
    {
        "name": "Бюро медико-социальной экспертизы (демо)",
        "helps_with": "Инвалидность, МСЭ, переосвидетельствование, индивидуальная программа реабилитации",
        "country": "RU",
        "region": None,
        "phone": "8 800 000 00 05",
        "website": "https://mse.example.org",
    },
    {
        "name": "Юридическая клиника для семей (демо)",
        "helps_with": "Права ребёнка и родителей, пособия, льготы, споры со школой",
        "country": "RU",
        "region": "RU-KHM",
        "email": "law@example.org",
        "hours": "Ср, Пт 14:00–18:00",
    },
]


def demo_referrals() -> list[Referral]:
    """Create (or refresh) the demo directory entries. Idempotent: keyed by the name.

    Demo set-up runs without a signed-in head, so it writes the rows directly rather than through
    `referral_create` (which requires one); nothing here is personal data.
    """
    regions = {r.code: r for r in Region.objects.filter(code__in=[e["region"] for e in _ENTRIES])}
    entries = []
    for data in _ENTRIES:
        fields: dict[str, Any] = {
            **data,
            "region": regions.get(data["region"]) if data["region"] else None,
        }
        name = fields.pop("name")
        entry, _created = Referral.objects.update_or_create(name=name, defaults=fields)
        entries.append(entry)
    return entries
