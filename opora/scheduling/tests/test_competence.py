"""Issue 12: the consultants competent for a request's topic and language come first in the
operator's grid and in the assignment at a chosen time, each with the reason."""

import datetime as dt
import random

import pytest

from opora.accounts.models import Language, Specialty
from opora.accounts.specialties import LanguageCode, TopicClass
from opora.demo.factories import make_consultant
from opora.scheduling.selectors import slot_grid, slots_free_at
from opora.scheduling.tests.factories import future_working_day, make_slot

pytestmark = pytest.mark.django_db


def _competent(user, *, topics=(), languages=()):
    for topic in topics:
        user.specialties.add(Specialty.objects.get_or_create(topic=topic)[0])
    for code in languages:
        user.languages.add(Language.objects.get_or_create(code=code)[0])
    return user


@pytest.fixture
def team(service):
    # By name Абаева would come first; the lawyer who speaks Kazakh must come first for law.
    return {
        "psy": _competent(
            make_consultant(service, last_name="Абаева", first_name="Ася"),
            topics=[TopicClass.FAMILY],
            languages=[LanguageCode.RUSSIAN],
        ),
        "kk": _competent(
            make_consultant(service, last_name="Бекова", first_name="Бота"),
            languages=[LanguageCode.KAZAKH],
        ),
        "law": _competent(
            make_consultant(service, last_name="Ведова", first_name="Вера"),
            topics=[TopicClass.LEGAL],
            languages=[LanguageCode.KAZAKH, LanguageCode.RUSSIAN],
        ),
    }


@pytest.fixture
def day(service, team):
    date = future_working_day(service)
    for consultant in team.values():
        for hour in (14, 15):
            make_slot(service, consultant, date, dt.time(hour))
    return date


def test_without_a_topic_the_grid_is_by_name_with_no_reason(service, team, day):
    grid = slot_grid(service=service, date=day)
    assert [r.consultant for r in grid.rows] == [team["psy"], team["kk"], team["law"]]
    assert [r.reason for r in grid.rows] == ["", "", ""]


def test_topic_first_then_language_each_with_the_reason(service, team, day):
    grid = slot_grid(
        service=service, date=day, topic=TopicClass.LEGAL, language=LanguageCode.KAZAKH
    )
    assert [r.consultant for r in grid.rows] == [team["law"], team["kk"], team["psy"]]
    assert grid.rows[0].reason == "specialty: 7. Legal assistance; language: kazakh"
    assert grid.rows[1].reason == "language: kazakh"
    assert grid.rows[2].reason == ""
    # The nearest free time stays the nearest, whoever holds it (regulation 001 §5).
    assert grid.nearest.consultant == team["psy"]


def test_the_ordering_is_one_query_for_the_day(service, team, day, django_assert_max_num_queries):
    # The competence is an annotation of the slot query, not a query per consultant.
    with django_assert_max_num_queries(12):
        slot_grid(service=service, date=day, topic=TopicClass.FAMILY, language="kk")


def test_assignment_at_a_time_prefers_the_competent(service, team, day):
    from opora.scheduling.calendar import make_aware_local

    at = make_aware_local(service, day, dt.time(14))
    for seed in range(5):
        slots = slots_free_at(
            service=service, starts_at=at, topic=TopicClass.FAMILY, rng=random.Random(seed)
        )
        assert slots[0].consultant == team["psy"]
    by_language = slots_free_at(service=service, starts_at=at, language=LanguageCode.KAZAKH)
    assert {s.consultant for s in by_language[:2]} == {team["kk"], team["law"]}
