"""The questionnaire's words are regulation 002's «АНКЕТА ДЛЯ РОДИТЕЛЕЙ», word for word in Russian,
and translated into Kazakh and English."""

import pytest
from django.utils import translation

from opora.quality import texts
from opora.quality.models import CRITERIA, MoreOf

REGULATION_CRITERIA = [
    "Качество дистанционной консультации",
    "Соответствие тематики д/к заявленной проблеме",
    "Эмоциональный комфорт проведения д/к",
    "Чёткость и ясность рекомендаций",
    "Важность (польза) рекомендаций для Вас и Вашего ребенка",
    "Улучшение Вашего эмоционального состояния после д/к",
    "Оцените деятельность специалиста, проводившего д/к.",
]
REGULATION_MORE_OF = ["Больше практики", "Больше теории", "Всего было достаточно"]


def test_russian_is_the_regulations_own_words():
    with translation.override("ru"):
        assert [str(label) for _name, label in CRITERIA] == REGULATION_CRITERIA
        assert [str(label) for label in MoreOf.labels] == REGULATION_MORE_OF
        assert str(texts.TITLE) == "АНКЕТА ДЛЯ РОДИТЕЛЕЙ"
        assert str(texts.SCALE_PROMPT) == (
            "Оцените, пожалуйста, дистанционное консультирование по 5-ти бальной шкале:"
        )
        assert str(texts.MORE_OF_QUESTION) == "Стоит ли включать в дистанционное консультирование:"
        assert str(texts.IMPRESSIONS) == "Ваше впечатление о дистанционном консультировании."
        assert str(texts.WISHES) == (
            "Ваши пожелания по дистанционному консультированию специалиста."
        )
        assert str(texts.THANKS) == "Благодарим Вас за сотрудничество!"


def test_kazakh_and_english_are_translated():
    everything = [*[label for _n, label in CRITERIA], *MoreOf.labels, texts.TITLE, texts.THANKS]
    with translation.override("ru"):
        russian = [str(s) for s in everything]
    for language in ("kk", "en"):
        with translation.override(language):
            translated = [str(s) for s in everything]
        assert all(a != b for a, b in zip(translated, russian, strict=True)), language


@pytest.mark.django_db
def test_the_page_is_in_the_parents_language(client, service, consultant):
    from opora.quality.services import evaluation_open
    from opora.quality.tests.factories import make_held_consultation

    held = make_held_consultation(service, consultant)
    evaluation = evaluation_open(request=held.booking.request)
    page = client.get(f"/q/{evaluation.token}/", HTTP_ACCEPT_LANGUAGE="kk").content.decode()
    assert "АТА-АНАЛАРҒА АРНАЛҒАН САУАЛНАМА" in page and "Қашықтан кеңес берудің сапасы" in page
    page = client.get(f"/q/{evaluation.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "QUESTIONNAIRE FOR PARENTS" in page and "More practice" in page
