"""`opora demo`: a synthetic 1411 installation (and a Russian district service) to try the product on.

Idempotent: every object is found by its natural key before it is created, schedules that are
already approved are left alone, and the registry is imported only when it is empty. Everything
it makes is invented; the registry rows come from a seeded generator (`random.Random(1411)`) and
go through `registry_import`, so the demo exercises the real import path.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from opora.accounts.models import Role, User
from opora.core.models import Organisation, Service
from opora.registry.adapters import get_registry_adapter
from opora.registry.iin import make_iin
from opora.registry.models import RegistryRecord, RegistrySource
from opora.scheduling.models import Schedule, Slot

SERVICE_CODE = "kz-1411"
DISTRICT_CODE = "mordovia"
ADMIN_USERNAME = "admin"

MINISTRY = "Министерство здравоохранения и социального развития Республики Казахстан (демо)"
GCVP = "ГЦВП (демо)"
UNIVERSITY = "Казахстанско-Российский медицинский университет (демо)"
DISTRICT_ORG = "Отдел социальной защиты населения Ленинского района г. Саранска (демо)"

# What the 1411 service's portal page says (regulation 000: who helps, how to complain).
PORTAL_1411 = {
    "public_description": (
        "Бесплатная психологическая помощь и консультации для родителей и законных представителей, "
        "воспитывающих детей с инвалидностью. Заявки принимают операторы ГЦВП по номеру 1411 и "
        "на этом сайте; консультации проводят психологи Казахстанско-Российского медицинского "
        "университета онлайн — по видео, голосом или в чате. Услуга оказывается получателям "
        "пособия на ребёнка с инвалидностью (проверка по ЦБД) и детям, состоящим в ЦБДИ."
    ),
    "complaint_instructions": (
        "Жалобу можно подать на имя руководителя ГЦВП или в уполномоченный орган в письменной "
        "форме: по почте, по электронной почте complaints-1411@opora-demo.example либо через "
        "канцелярию в рабочие дни. Жалоба рассматривается в сроки, установленные "
        "законодательством Республики Казахстан."
    ),
    "public_email": "info-1411@opora-demo.example",
    # The texts in Kazakh and English (Service.text falls back to the Russian ones above).
    "name_kk": "1411 онлайн қолдау қызметі (демо)",
    "name_en": "Online Support Service 1411 (demo)",
    "public_description_kk": (
        "Мүгедектігі бар балаларды тәрбиелеп отырған ата-аналар мен заңды өкілдерге тегін "
        "психологиялық көмек пен кеңес. Өтінімдерді МЗТО операторлары 1411 нөмірі бойынша және "
        "осы сайтта қабылдайды; кеңесті Қазақстан-Ресей медициналық университетінің психологтары "
        "онлайн — бейне, дауыс немесе чат арқылы береді. Қызмет мүгедек баланы тәрбиелеуге "
        "арналған жәрдемақы алушыларға (ОДБ бойынша тексеріледі) және ОДБИ-де тұрған балаларға "
        "көрсетіледі."
    ),
    "public_description_en": (
        "Free psychological help and consultations for parents and legal representatives raising "
        "children with disabilities. Requests are taken by the State Pension Payment Centre's "
        "operators on 1411 and on this site; the consultations are held online — by video, voice "
        "or chat — by psychologists of the Kazakh-Russian Medical University. The service is for "
        "recipients of the disabled child benefit (checked in the ЦБД registry) and for children "
        "registered in the ЦБДИ."
    ),
    "join_instructions_kk": (
        "Сілтеме жазылғаннан кейін бірден SMS арқылы (және e-mail көрсетілсе, соған) келеді, "
        "консультацияның алдындағы күні және бір сағат бұрын қайта жіберіледі. Ол өтінімнің жеке "
        "бетін ашады: басталудан 15 минут бұрын «Қосылу» батырмасы сонда пайда болады, жазылуды "
        "сонда ауыстыруға немесе болдырмауға болады. Ештеңе орнатудың қажеті жоқ."
    ),
    "join_instructions_en": (
        "The link comes by SMS (and by e-mail, if given) right after booking, and again the day "
        "before and an hour before. It opens the request's private page: the Join button appears "
        "there 15 minutes before the start, and the booking can be moved or cancelled there. "
        "Nothing needs to be installed."
    ),
    "change_instructions_kk": (
        "Жазылуды SMS-тегі сілтеме бойынша өтінімнің жеке бетінде немесе жұмыс күндері "
        "9:00-ден 18:00-ге дейін 1411 тегін нөміріне қоңырау шалып (ЖСН-іңізді айтыңыз) "
        "ауыстыруға немесе болдырмауға болады."
    ),
    "change_instructions_en": (
        "You can move or cancel the booking on the request's private page (the link in the SMS) "
        "or by calling the free number 1411 on working days from 9:00 to 18:00 (give your IIN)."
    ),
    "complaint_instructions_kk": (
        "Шағымды МЗТО басшысының немесе уәкілетті органның атына жазбаша түрде беруге болады: "
        "пошта арқылы, complaints-1411@opora-demo.example электрондық поштасы арқылы немесе жұмыс "
        "күндері кеңсе арқылы. Шағым Қазақстан Республикасының заңнамасында белгіленген "
        "мерзімде қаралады."
    ),
    "complaint_instructions_en": (
        "A complaint can be made in writing to the head of the State Pension Payment Centre or "
        "to the authority: by post, by e-mail to complaints-1411@opora-demo.example or at the "
        "office on working days. It is considered within the time set by the law of the Republic "
        "of Kazakhstan."
    ),
}

# The Russian district service of regulations 002–004: e-mail, messengers, the site, anonymity.
DISTRICT_SERVICE = {
    "name": "Дистанционное консультирование семей — Саранск (демо)",
    "country": "RU",
    "time_zone": "Europe/Moscow",
    "holiday_calendar": "RU",
    "booking_opens": dt.time(9),
    "booking_closes": dt.time(18),
    "consultation_opens": dt.time(10),
    "consultation_closes": dt.time(17),
    "slot_minutes": 60,
    "max_consultation_minutes": 60,
    "channels": ["email", "phone", "portal", "telegram", "whatsapp", "vk"],
    "recording_policy": "consent",
    "written_answer_working_days": 3,
    "join_instructions": (
        "Ссылка на консультацию — на личной странице заявки и в письме. Откройте её в браузере "
        "в назначенное время; за 30 минут проверьте камеру и микрофон."
    ),
    "change_instructions": (
        "Перенести или отменить запись можно на личной странице заявки или по телефону "
        "+7 8342 00-00-00 в рабочие дни с 9:00 до 18:00."
    ),
    "public_phone": "+7 8342 00-00-00",
    "public_email": "family-help@opora-demo.example",
    "public_description": (
        "Специалисты отдела социальной защиты консультируют родителей (законных представителей) "
        "детей с инвалидностью и граждан, желающих принять в семью ребёнка, оставшегося без "
        "попечения родителей: психолог, специалист по социальной работе, юрист. Консультации "
        "индивидуальные и групповые, онлайн (видео, голос, чат), по телефону и письменно по "
        "электронной почте; длительность — не более 60 минут. Можно обратиться анонимно."
    ),
    "complaint_instructions": (
        "Если вы недовольны консультацией, напишите начальнику отдела на "
        "family-help@opora-demo.example или позвоните по телефону +7 8342 00-00-00. Жалоба "
        "регистрируется и рассматривается в срок, установленный законом (30 дней)."
    ),
    "allows_anonymous": True,
    "allows_self_booking": True,
    # The texts in Kazakh and English (Service.text falls back to the Russian ones above).
    "name_kk": "Отбасыларға қашықтан кеңес беру — Саранск (демо)",
    "name_en": "Remote counselling for families — Saransk (demo)",
    "join_instructions_kk": (
        "Консультация сілтемесі өтінімнің жеке бетінде және хатта. Оны белгіленген уақытта "
        "браузерде ашыңыз; 30 минут бұрын камера мен микрофонды тексеріңіз."
    ),
    "join_instructions_en": (
        "The link to the consultation is on the request's private page and in the letter. Open "
        "it in a browser at the appointed time; check your camera and microphone 30 minutes "
        "before."
    ),
    "change_instructions_kk": (
        "Жазылуды өтінімнің жеке бетінде немесе жұмыс күндері 9:00-ден 18:00-ге дейін "
        "+7 8342 00-00-00 телефоны арқылы ауыстыруға немесе болдырмауға болады."
    ),
    "change_instructions_en": (
        "You can move or cancel the booking on the request's private page or by phone on "
        "+7 8342 00-00-00 on working days from 9:00 to 18:00."
    ),
    "public_description_kk": (
        "Әлеуметтік қорғау бөлімінің мамандары мүгедектігі бар балалардың ата-аналарына (заңды "
        "өкілдеріне) және ата-анасының қамқорлығынсыз қалған баланы отбасына алғысы келетін "
        "азаматтарға кеңес береді: психолог, әлеуметтік жұмыс жөніндегі маман, заңгер. Кеңестер "
        "жеке және топтық, онлайн (бейне, дауыс, чат), телефон арқылы және электрондық пошта "
        "арқылы жазбаша; ұзақтығы — 60 минуттан аспайды. Анонимді түрде жүгінуге болады."
    ),
    "public_description_en": (
        "Specialists of the social protection office counsel parents (legal representatives) of "
        "children with disabilities and people who wish to take a child without parental care "
        "into their family: a psychologist, a social worker, a lawyer. Consultations are "
        "individual and in groups, online (video, voice, chat), by phone and in writing by "
        "e-mail, and last no longer than 60 minutes. You may ask anonymously."
    ),
    "complaint_instructions_kk": (
        "Кеңеске көңіліңіз толмаса, бөлім бастығына family-help@opora-demo.example мекенжайына "
        "жазыңыз немесе +7 8342 00-00-00 телефонына қоңырау шалыңыз. Шағым тіркеліп, заңда "
        "белгіленген мерзімде (30 күн) қаралады."
    ),
    "complaint_instructions_en": (
        "If you are not satisfied with a consultation, write to the head of the office at "
        "family-help@opora-demo.example or call +7 8342 00-00-00. The complaint is registered "
        "and considered within the time set by law (30 days)."
    ),
}
# username -> (last, first, patronymic): the district service's two consultants.
DISTRICT_CONSULTANTS = [
    ("district-psychologist", ("Психологова", "Вера", "Андреевна")),
    ("district-social", ("Соцработникова", "Ольга", "Ивановна")),
]
# The district service's own staff (they work only there), so that its requests are handled end
# to end: the operator takes the queue, the coordinator and the head keep the schedules and the
# written answers, the two consultants above hold the consultations. The password is
# f"demo-{username}-2026", like the 1411 logins.
DISTRICT_STAFF: list[tuple[str, str, tuple[str, str, str]]] = [
    ("operator-mordovia", Role.OPERATOR, ("Операторская", "Анна", "Сергеевна")),
    ("coordinator-mordovia", Role.COORDINATOR, ("Координаторская", "Ирина", "Павловна")),
    ("head-mordovia", Role.HEAD, ("Начальникова", "Елена", "Викторовна")),
]

# The CSV layouts registry_import reads (opora.registry.importer.COLUMNS): UTF-8, a header, ISO dates.
REGISTRY_COLUMNS = {
    "cbd": [
        "recipient_iin",
        "last_name",
        "first_name",
        "patronymic",
        "child_iin",
        "relation",
        "status",
    ],
    "cbdi": [
        "iin",
        "last_name",
        "first_name",
        "patronymic",
        "birth_date",
        "category",
        "valid_until",
    ],
}

# username -> (role, organisation key); the password is f"demo-{username}-2026".
DEMO_USERS: list[tuple[str, str, str, tuple[str, str, str]]] = [
    ("operator", Role.OPERATOR, "gcvp", ("Операторова", "Дина", "Маратовна")),
    ("coordinator", Role.COORDINATOR, "gcvp", ("Координаторов", "Ерлан", "Сапарович")),
    ("consultant", Role.CONSULTANT, "university", ("Консультантова", "Айгуль", "Нурлановна")),
    ("head", Role.HEAD, "university", ("Руководителев", "Олег", "Петрович")),
    ("authority", Role.AUTHORITY, "ministry", ("Министерская", "Жанна", "")),
    ("security_officer", Role.SECURITY_OFFICER, "gcvp", ("Защитова", "Алия", "Ерлановна")),
    ("admin", Role.ADMIN, "gcvp", ("Администраторов", "Тимур", "")),
]


def demo_password(username: str) -> str:
    return f"demo-{username}-2026"


# --- Synthetic names ----------------------------------------------------------------------------
# (male form, female form); Kazakh letters included on purpose, the name matcher must fold them.
SURNAMES = [
    ("Ахметов", "Ахметова"),
    ("Жумабаев", "Жумабаева"),
    ("Сулейменов", "Сулейменова"),
    ("Касымов", "Касымова"),
    ("Омаров", "Омарова"),
    ("Искаков", "Искакова"),
    ("Тулегенов", "Тулегенова"),
    ("Оспанов", "Оспанова"),
    ("Кенжебаев", "Кенжебаева"),
    ("Бекмуханов", "Бекмуханова"),
    ("Мұқанов", "Мұқанова"),
    ("Қасымов", "Қасымова"),
    ("Нұрланов", "Нұрланова"),
    ("Әбенов", "Әбенова"),
    ("Сейткали", "Сейткали"),
    ("Ким", "Ким"),
    ("Иванов", "Иванова"),
    ("Смирнов", "Смирнова"),
    ("Кузнецов", "Кузнецова"),
    ("Попов", "Попова"),
    ("Васильев", "Васильева"),
    ("Петров", "Петрова"),
    ("Соколов", "Соколова"),
    ("Фёдоров", "Фёдорова"),
    ("Морозов", "Морозова"),
    ("Волков", "Волкова"),
    ("Семёнов", "Семёнова"),
    ("Лебедев", "Лебедева"),
    ("Шевченко", "Шевченко"),
    ("Бондаренко", "Бондаренко"),
]
MALE_NAMES = [
    "Айдар",
    "Ержан",
    "Нурлан",
    "Асхат",
    "Бауыржан",
    "Даурен",
    "Марат",
    "Канат",
    "Серик",
    "Тимур",
    "Арман",
    "Ербол",
    "Азамат",
    "Рустем",
    "Александр",
    "Сергей",
    "Дмитрий",
    "Андрей",
    "Алексей",
    "Игорь",
    "Михаил",
    "Николай",
    "Владимир",
    "Евгений",
]
FEMALE_NAMES = [
    "Айгерім",
    "Гульнара",
    "Динара",
    "Жанар",
    "Асель",
    "Сауле",
    "Мадина",
    "Айнур",
    "Салтанат",
    "Әсем",
    "Ұлжан",
    "Гүлназ",
    "Алия",
    "Камила",
    "Елена",
    "Ольга",
    "Наталья",
    "Татьяна",
    "Ирина",
    "Светлана",
    "Анна",
    "Мария",
    "Юлия",
    "Екатерина",
]
# Russian-style patronymics where the stem changes; the rest take -ович/-овна.
_PATRONYMIC_SPECIAL = {
    "Сергей": ("Сергеевич", "Сергеевна"),
    "Андрей": ("Андреевич", "Андреевна"),
    "Алексей": ("Алексеевич", "Алексеевна"),
    "Игорь": ("Игоревич", "Игоревна"),
    "Николай": ("Николаевич", "Николаевна"),
    "Евгений": ("Евгеньевич", "Евгеньевна"),
    "Дмитрий": ("Дмитриевич", "Дмитриевна"),
    "Михаил": ("Михайлович", "Михайловна"),
}
_KAZAKH_NAMES = set(MALE_NAMES[:14])


def patronymic(father: str, sex: str, rng: random.Random) -> str:
    """A patronymic from the father's first name; Kazakh names sometimes get -ұлы/-қызы."""
    if father in _KAZAKH_NAMES and rng.random() < 0.3:
        return father + ("ұлы" if sex == "M" else "қызы")
    male, female = _PATRONYMIC_SPECIAL.get(father, (father + "ович", father + "овна"))
    return male if sex == "M" else female


@dataclass
class Person:
    last_name: str
    first_name: str
    patronymic: str
    sex: str
    birth_date: dt.date
    iin: str

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)


@dataclass
class SyntheticRegistry:
    cbd: list[dict[str, str]] = field(default_factory=list)
    cbdi: list[dict[str, str]] = field(default_factory=list)
    # (IIN, full name, what the check should answer): shown to whoever tries the demo.
    samples: list[tuple[str, str, str]] = field(default_factory=list)


class _Generator:
    """Deterministic synthetic people with valid, unique IINs."""

    def __init__(self, seed: int, today: dt.date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.used: set[str] = set()

    def _date(self, first_year: int, last_year: int) -> dt.date:
        start = dt.date(first_year, 1, 1)
        end = min(dt.date(last_year, 12, 31), self.today - dt.timedelta(days=1))
        return start + dt.timedelta(days=self.rng.randrange((end - start).days + 1))

    def _iin(self, birth_date: dt.date, sex: str) -> str:
        while True:
            iin = make_iin(birth_date, sex, self.rng.randrange(10_000))
            if iin is not None and iin not in self.used:
                self.used.add(iin)
                return iin

    def person(
        self, sex: str, years: tuple[int, int], surname: tuple[str, str], father: str
    ) -> Person:
        rng = self.rng
        first = rng.choice(MALE_NAMES if sex == "M" else FEMALE_NAMES)
        # About one person in ten has no patronymic in the registry.
        patr = "" if rng.random() < 0.1 else patronymic(father, sex, rng)
        born = self._date(*years)
        return Person(surname[0 if sex == "M" else 1], first, patr, sex, born, self._iin(born, sex))


def generate_registry(rows: int, *, today: dt.date, seed: int = 1411) -> SyntheticRegistry:
    """About 70 % ЦБД rows (recipients and the children they raise) and 30 % ЦБДИ children.

    Half of the ЦБДИ children belong to ЦБД families, so a parent may also give the child's IIN.
    """
    gen = _Generator(seed, today)
    rng = gen.rng
    out = SyntheticRegistry()
    cbd_target = round(rows * 0.7)
    cbdi_target = rows - cbd_target
    family_children: list[Person] = []
    active: list[Person] = []
    inactive: list[Person] = []
    child_years = (today.year - 17, today.year - 1)

    while len(out.cbd) < cbd_target:
        surname = rng.choice(SURNAMES)
        father = rng.choice(MALE_NAMES)
        roll = rng.random()
        if roll < 0.75:
            relation, sex = "мать", "F"
        elif roll < 0.9:
            relation, sex = "отец", "M"
        else:
            relation, sex = rng.choice([("опекун", "F"), ("опекун", "M"), ("усыновитель", "F")])
        grandfather = rng.choice(MALE_NAMES)
        parent = gen.person(sex, (1972, today.year - 20), surname, grandfather)
        if relation == "отец":
            father = parent.first_name
        status = "active" if rng.random() < 0.85 else "inactive"
        (active if status == "active" else inactive).append(parent)
        for _ in range(2 if rng.random() < 0.1 else 1):
            if len(out.cbd) >= cbd_target:
                break
            child = gen.person(rng.choice("MF"), child_years, surname, father)
            family_children.append(child)
            out.cbd.append(
                {
                    "recipient_iin": parent.iin,
                    "child_iin": child.iin,
                    "last_name": parent.last_name,
                    "first_name": parent.first_name,
                    "patronymic": parent.patronymic,
                    "relation": relation,
                    "status": status,
                }
            )

    def cbdi_row(child: Person) -> dict[str, str]:
        roll = rng.random()
        if roll < 0.4:
            valid_until = ""  # indefinite
        elif roll < 0.9:
            valid_until = (today + dt.timedelta(days=rng.randrange(30, 1500))).isoformat()
        else:
            valid_until = (today - dt.timedelta(days=rng.randrange(1, 700))).isoformat()
        age = (today - child.birth_date).days // 365
        category = (
            "ребенок-инвалид до 16 лет" if age < 16 else f"инвалид {rng.choice('123')} группы"
        )
        return {
            "iin": child.iin,
            "last_name": child.last_name,
            "first_name": child.first_name,
            "patronymic": child.patronymic,
            "birth_date": child.birth_date.isoformat(),
            "category": category,
            "valid_until": valid_until,
        }

    for child in family_children[: cbdi_target // 2]:
        out.cbdi.append(cbdi_row(child))
    while len(out.cbdi) < cbdi_target:
        child = gen.person(
            rng.choice("MF"), child_years, rng.choice(SURNAMES), rng.choice(MALE_NAMES)
        )
        out.cbdi.append(cbdi_row(child))

    for parent in active[:3]:
        out.samples.append((parent.iin, parent.full_name, "eligible: active ЦБД recipient"))
    for row in out.cbdi:
        if row["valid_until"] == "":
            name = " ".join(
                p for p in (row["last_name"], row["first_name"], row["patronymic"]) if p
            )
            out.samples.append((row["iin"], name, "eligible: child in ЦБДИ"))
            break
    if inactive:
        out.samples.append((inactive[0].iin, inactive[0].full_name, "refused: recipient inactive"))
    return out


def write_registry_csv(source: str, rows: list[dict[str, str]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=REGISTRY_COLUMNS[source])
        writer.writeheader()
        writer.writerows(rows)


# --- Consultants ---------------------------------------------------------------------------------

# Synthetic specialties, shown in the operator's booking grid and its filter: the 1411
# consultants take them in turn, the district's by login.
CONSULTANT_SPECIALTIES = ["Психолог", "Социальный работник", "Юрист", "Дефектолог"]
DISTRICT_SPECIALTIES = {
    "district-psychologist": "Психолог",
    "district-social": "Специалист по социальной работе",
}


def specialty_set(user: User, specialty: str) -> None:
    """Give a demo consultant their specialty once (an edit made in the admin is kept)."""
    if not user.specialty:
        user.specialty = specialty
        user.save(update_fields=["specialty"])


def consultant_names(count: int) -> list[tuple[str, str, str]]:
    """(last, first, patronymic) for consultant01..NN, the same on every run."""
    rng = random.Random("opora-demo-consultants")
    names = []
    for _ in range(count):
        sex = rng.choice("FFM")
        surname = rng.choice(SURNAMES)[0 if sex == "M" else 1]
        first = rng.choice(MALE_NAMES if sex == "M" else FEMALE_NAMES)
        names.append((surname, first, patronymic(rng.choice(MALE_NAMES), sex, rng)))
    return names


def month_start(day: dt.date, months_ahead: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 + months_ahead
    return dt.date(index // 12, index % 12 + 1, 1)


# Planned consultations of the demo schedules: (topic, target group), synthetic.
DEMO_PLANS = (
    ("Адаптация ребёнка в детском саду и школе", "Родители детей дошкольного возраста"),
    ("Трудное поведение: как реагировать спокойно", "Родители детей с РАС"),
    ("Сон и режим дня ребёнка", "Родители детей с инвалидностью"),
    ("Эмоциональное выгорание родителей", "Родители, воспитывающие детей с инвалидностью"),
)


class Command(BaseCommand):
    help = (
        "Load the synthetic demo: the 1411 service, one user per role, consultants with approved "
        "schedules for this month and the next, a synthetic ЦБД/ЦБДИ registry, and a Russian "
        "district service (anonymous requests, online booking on the portal). Safe to re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--registry-rows", type=int, default=10_000, help="synthetic registry rows (10000)"
        )
        parser.add_argument(
            "--consultants", type=int, default=20, help="consultants besides `consultant` (20)"
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="set the printed demo logins back to their printed passwords",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["registry_rows"] < 10 or opts["consultants"] < 0:
            raise CommandError(
                "--registry-rows must be at least 10 and --consultants not negative."
            )
        started = time.monotonic()
        service, orgs, users, created_users = self._reference_data(opts["reset_passwords"])
        consultants = [users["consultant"], *self._consultants(service, orgs, opts["consultants"])]
        specialty_set(users["consultant"], CONSULTANT_SPECIALTIES[0])
        approved = self._schedules(service, users, consultants)
        district, district_consultants = self._district(orgs, users, opts["reset_passwords"])
        approved += self._schedules(district, users, district_consultants)
        self._channels(service, district)
        registry = self._registry(users["admin"], opts["registry_rows"])
        self._summary(service, approved, created_users, time.monotonic() - started)
        self._summary_district(district)
        self._logins(registry)

    # --- channels: referral directory, messenger bots, mailboxes ------------------------------------

    def _channels(self, service: Service, district: Service) -> None:
        from opora.demo.mail import demo_mail
        from opora.demo.messengers import demo_messengers
        from opora.demo.referrals import demo_referrals

        demo_referrals()
        demo_messengers(district)
        demo_mail(district)

    # --- organisations, the service, the six logins ------------------------------------------------

    @transaction.atomic
    def _reference_data(
        self, reset_passwords: bool
    ) -> tuple[Service, dict[str, Organisation], dict[str, User], int]:
        orgs = {
            "ministry": Organisation.objects.get_or_create(
                name=MINISTRY,
                defaults={"short_name": "МЗСР (демо)", "kind": "ministry", "country": "KZ"},
            )[0],
            "gcvp": Organisation.objects.get_or_create(
                name=GCVP,
                defaults={"short_name": "ГЦВП", "kind": "call_centre", "country": "KZ"},
            )[0],
            "university": Organisation.objects.get_or_create(
                name=UNIVERSITY,
                defaults={"short_name": "КРМУ", "kind": "university", "country": "KZ"},
            )[0],
        }
        service, _ = Service.objects.get_or_create(
            code=SERVICE_CODE,
            defaults={
                "name": "Служба онлайн поддержки 1411 (демо)",
                "country": "KZ",
                "time_zone": "Asia/Almaty",
                "holiday_calendar": "KZ",
                "intake_organisation": orgs["gcvp"],
                "provider_organisation": orgs["university"],
                "authority": orgs["ministry"],
                "booking_opens": dt.time(9),
                "booking_closes": dt.time(18),
                "consultation_opens": dt.time(14),
                "consultation_closes": dt.time(18),
                "slot_minutes": 60,
                "max_consultation_minutes": 60,
                "channels": ["phone", "email", "portal"],
                "eligibility_rule": Service.Eligibility.KZ_REGISTRY,
                "recording_policy": Service.RecordingPolicy.NOTICE,
                "handoff_time": dt.time(17, 45),
                "handoff_email": "university-demo@example.org",
                "join_instructions": (
                    "Ссылка приходит по SMS (и на e-mail, если он указан) сразу после записи "
                    "и ещё раз за день и за час до консультации. Она открывает личную страницу "
                    "заявки: там за 15 минут до начала появится кнопка «Подключиться», там же "
                    "можно перенести или отменить запись. Ничего устанавливать не нужно."
                ),
                "change_instructions": (
                    "Перенести или отменить запись можно на личной странице заявки (ссылка "
                    "в SMS) или по бесплатному номеру 1411 в рабочие дни с 9:00 до 18:00 "
                    "(назовите ИИН)."
                ),
                "public_phone": "1411",
                **PORTAL_1411,
                "allows_self_booking": True,
            },
        )
        if not service.public_description:
            # A demo made before the portal existed: give it the portal's texts once. Later
            # edits (a non-empty description) are left alone.
            for name, value in PORTAL_1411.items():
                setattr(service, name, value)
            service.allows_self_booking = True
            if "portal" not in service.channels:
                service.channels = [*service.channels, "portal"]
            service.full_clean()
            service.save()
        users: dict[str, User] = {}
        created = 0
        for username, role, org_key, (last, first, patr) in DEMO_USERS:
            user, was_created = User.objects.get_or_create(
                username=username,
                defaults={
                    "role": role,
                    "organisation": orgs[org_key],
                    "last_name": last,
                    "first_name": first,
                    "patronymic": patr,
                    "email": f"{username}@opora-demo.example",
                    "is_staff": username == ADMIN_USERNAME,
                    "is_superuser": username == ADMIN_USERNAME,
                },
            )
            if was_created or reset_passwords:
                user.set_password(demo_password(username))
                user.save(update_fields=["password"])
            created += was_created
            user.services.add(service)
            users[username] = user
        return service, orgs, users, created

    @transaction.atomic
    def _consultants(
        self, service: Service, orgs: dict[str, Organisation], count: int
    ) -> list[User]:
        consultants = []
        for i, (last, first, patr) in enumerate(consultant_names(count), start=1):
            user, created = User.objects.get_or_create(
                username=f"consultant{i:02d}",
                defaults={
                    "role": Role.CONSULTANT,
                    "organisation": orgs["university"],
                    "last_name": last,
                    "first_name": first,
                    "patronymic": patr,
                },
            )
            if created:
                # Only the six printed logins can sign in; these exist to have schedules.
                user.set_unusable_password()
                user.save(update_fields=["password"])
            user.services.add(service)
            specialty_set(user, CONSULTANT_SPECIALTIES[i % len(CONSULTANT_SPECIALTIES)])
            consultants.append(user)
        return consultants

    @transaction.atomic
    def _district(
        self, orgs: dict[str, Organisation], users: dict[str, User], reset_passwords: bool = False
    ) -> tuple[Service, list[User]]:
        """The Russian district service with staff of its own who can sign in (an operator, a
        coordinator, a head and two consultants); the 1411 operator, coordinator and head serve it
        too (they switch services in the page header), so its schedules go through the same
        approval."""
        org, _ = Organisation.objects.get_or_create(
            name=DISTRICT_ORG,
            defaults={"short_name": "ОСЗН (демо)", "kind": "social_protection", "country": "RU"},
        )
        service, _ = Service.objects.get_or_create(
            code=DISTRICT_CODE,
            defaults={
                **DISTRICT_SERVICE,
                "intake_organisation": org,
                "provider_organisation": org,
            },
        )
        for username in ("coordinator", "head", "operator"):
            users[username].services.add(service)
        for username, role, names in DISTRICT_STAFF:
            self._district_login(username, role, names, org, service, reset_passwords)
        consultants = []
        for username, (last, first, patr) in DISTRICT_CONSULTANTS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "role": Role.CONSULTANT,
                    "organisation": org,
                    "last_name": last,
                    "first_name": first,
                    "patronymic": patr,
                },
            )
            # A printed login: the consultants hold the district's consultations.
            if created or reset_passwords or not user.has_usable_password():
                user.set_password(demo_password(username))
                user.save(update_fields=["password"])
            user.services.add(service)
            specialty_set(user, DISTRICT_SPECIALTIES.get(username, ""))
            consultants.append(user)
        return service, consultants

    def _district_login(
        self,
        username: str,
        role: str,
        names: tuple[str, str, str],
        org: Organisation,
        service: Service,
        reset_password: bool,
    ) -> User:
        last, first, patr = names
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "role": role,
                "organisation": org,
                "last_name": last,
                "first_name": first,
                "patronymic": patr,
                "email": f"{username}@opora-demo.example",
            },
        )
        if created or reset_password:
            user.set_password(demo_password(username))
            user.save(update_fields=["password"])
        user.services.add(service)
        return user

    # --- schedules and slots -------------------------------------------------------------------

    def _schedules(self, service: Service, users: dict[str, User], consultants: list[User]) -> int:
        from opora.scheduling.calendar import working_days_in_month
        from opora.scheduling.services import schedule_approve, schedule_save, schedule_submit

        # Whole months, as a coordinator enters them by the 25th: the days already past keep their
        # slots as history, booking only ever offers future ones.
        today = timezone.localdate(timezone=service.tz)
        approved = 0
        for month in (month_start(today), month_start(today, 1)):
            # Every fourth day a planned consultation with its topic and target group
            # (regulation 003 Appendix 1, published on the service's page).
            periods = [
                (
                    day,
                    service.consultation_opens,
                    service.consultation_closes,
                    *(DEMO_PLANS[(i // 4) % len(DEMO_PLANS)] if i % 4 == 0 else ("", "")),
                )
                for i, day in enumerate(working_days_in_month(service, month))
            ]
            for consultant in consultants:
                schedule = Schedule.objects.filter(
                    service=service, consultant=consultant, month=month
                ).first()
                ours = schedule is not None and schedule.created_by_id == users["coordinator"].pk
                if schedule is not None and not (
                    # Only a run of ours cut short is finished; anything else someone made or
                    # changed (approved, returned, another author) is left as it is.
                    ours and schedule.status in (Schedule.Status.DRAFT, Schedule.Status.SUBMITTED)
                ):
                    continue
                if schedule is None:
                    schedule = schedule_save(
                        actor=users["coordinator"],
                        service=service,
                        consultant=consultant,
                        month=month,
                        periods=periods,
                    )
                if schedule.status == Schedule.Status.DRAFT:
                    schedule = schedule_submit(actor=users["coordinator"], schedule=schedule)
                schedule_approve(actor=users["head"], schedule=schedule)
                approved += 1
        return approved

    # --- registry ----------------------------------------------------------------------------------

    def _registry(self, actor: User, rows: int) -> SyntheticRegistry:
        from opora.registry.services import registry_import

        today = timezone.localdate(timezone=Service.objects.get(code=SERVICE_CODE).tz)
        registry = generate_registry(rows, today=today)
        with tempfile.TemporaryDirectory(prefix="opora-demo-") as tmp:
            for source, data in (
                (RegistrySource.CBD, registry.cbd),
                (RegistrySource.CBDI, registry.cbdi),
            ):
                if RegistryRecord.objects.filter(source=source).exists():
                    self.stdout.write(f"Registry {source}: already loaded, skipped.")
                    continue
                path = Path(tmp) / f"demo-{source}.csv"
                write_registry_csv(source, data, path)
                started = time.monotonic()
                run = registry_import(source=source, path=path, actor=actor)
                self.stdout.write(
                    f"Registry {source}: {run.rows_loaded} rows loaded, {run.rows_rejected} rejected "
                    f"in {time.monotonic() - started:.1f} s."
                )
                if run.rows_rejected:
                    raise CommandError(
                        f"The synthetic {source} file had rejected rows: {run.errors[:3]}"
                    )
        return registry

    # --- output ----------------------------------------------------------------------------------

    def _summary(self, service: Service, approved: int, created_users: int, seconds: float) -> None:
        today = timezone.localdate(timezone=service.tz)
        slots = Slot.objects.filter(service=service)
        counts = {
            source: RegistryRecord.objects.filter(source=source).count()
            for source in RegistrySource
        }
        self.stdout.write("")
        self.stdout.write(
            f"Demo ready in {seconds:.1f} s: service «{service.name}» ({service.code})."
        )
        self.stdout.write(
            f"  staff: {User.objects.filter(services=service).count()} users "
            f"({created_users} demo logins created now); approved schedules: "
            f"{Schedule.objects.filter(service=service, status=Schedule.Status.APPROVED).count()} "
            f"({approved} now)"
        )
        for month in (month_start(today), month_start(today, 1)):
            n = slots.filter(
                starts_at__date__gte=month, starts_at__date__lt=month_start(month, 1)
            ).count()
            self.stdout.write(f"  slots {month:%Y-%m}: {n}")
        self.stdout.write(
            f"  registry: {counts[RegistrySource.CBD]} ЦБД rows, {counts[RegistrySource.CBDI]} ЦБДИ rows"
        )

    def _summary_district(self, service: Service) -> None:
        today = timezone.localdate(timezone=service.tz)
        n = Slot.objects.filter(service=service, starts_at__date__gte=month_start(today)).count()
        self.stdout.write(
            f"  district service «{service.name}» ({service.code}): {n} slots; "
            f"public portal at /s/{service.code}/ (anonymous requests, online booking)"
        )

    def _logins(self, registry: SyntheticRegistry) -> None:
        # Only the invented samples that really are in the database (an installation with a real
        # registry skipped the synthetic one, and then there is nothing to show).
        present = []
        for iin, name, answer in registry.samples:
            last, first = name.split()[:2]
            found = get_registry_adapter().lookup(iin)
            if any(e.iin == iin and (e.last_name, e.first_name) == (last, first) for e in found):
                present.append((iin, name, answer))
        if present:
            self.stdout.write("")
            self.stdout.write(
                "Synthetic IINs to try in the operator's request form (invented people):"
            )
            for iin, name, answer in present:
                self.stdout.write(f"  {iin}  {name:<40} {answer}")
        self.stdout.write("")
        self.stdout.write("Logins (demo only; kept on a re-run, --reset-passwords restores them).")
        self.stdout.write(
            "Who works in several services switches between them in the page header; "
            "the queue can show all of them at once."
        )
        self.stdout.write(f"  {'username':<22} {'password':<32} {'role':<18} works in")
        for username, role_value in self._printed_logins():
            role = str(role_value)
            user = User.objects.filter(username=username).first()
            if user is None:
                continue
            if username == ADMIN_USERNAME:
                role, where = f"{role}, superuser", "every service"
            elif role == Role.AUTHORITY:
                where = "reports (no service screens)"
            else:
                where = ", ".join(user.services.order_by("pk").values_list("code", flat=True))
            self.stdout.write(
                f"  {username:<22} {demo_password(username):<32} {role:<18} {where or '—'}"
            )

    @staticmethod
    def _printed_logins() -> list[tuple[str, str]]:
        """(username, role) of every printed login: the 1411 ones, the district's, the admin last
        (where a person trying the demo looks for it)."""
        kz = [(u, r) for u, r, _, _ in DEMO_USERS if u != ADMIN_USERNAME]
        district = [(u, r) for u, r, _ in DISTRICT_STAFF]
        district += [(u, Role.CONSULTANT) for u, _ in DISTRICT_CONSULTANTS]
        return [*kz, *district, (ADMIN_USERNAME, Role.ADMIN)]
