"""The scoring engine against the published scoring rules, with worked examples."""

import copy

import pytest
from django.utils import translation

from opora.surveys import scoring
from opora.surveys.instruments import GAD7, PARENTAL, PHQ9, PSS10, SHIPPED
from opora.surveys.tests.helpers import answers_for_total

# (definition, [(first total, last total, band)]) as published.
PUBLISHED_BANDS = [
    (
        PHQ9,
        [
            (0, 4, "minimal"),
            (5, 9, "mild"),
            (10, 14, "moderate"),
            (15, 19, "moderately_severe"),
            (20, 27, "severe"),
        ],
    ),
    (GAD7, [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")]),
    (PSS10, [(0, 13, "low"), (14, 26, "moderate"), (27, 40, "high")]),
    (PARENTAL, [(18, 90, "scored")]),
]


@pytest.mark.parametrize("code", sorted(SHIPPED))
def test_every_shipped_definition_is_consistent(code):
    scoring.validate_definition(SHIPPED[code][1])


@pytest.mark.parametrize(
    ("definition", "total", "band"),
    [
        (definition, total, band)
        for definition, bands in PUBLISHED_BANDS
        for low, high, band in bands
        for total in (low, high)
    ],
)
def test_every_band_boundary(definition, total, band):
    result = scoring.score(definition, answers_for_total(definition, total))
    assert (result.total, result.band) == (total, band)


def test_phq9_ranges_and_item_9_alert():
    assert scoring.total_range(PHQ9) == (0, 27)
    answers = {str(n): 0 for n in range(1, 10)}
    assert scoring.score(PHQ9, answers).risk is False
    answers["9"] = 1
    result = scoring.score(PHQ9, answers)
    assert result.risk is True
    assert result.risk_items == ("9",)
    assert (result.total, result.band) == (1, "minimal")  # a low total still alerts


def test_phq9_worked_example():
    # 1,1,2,1,0,1,1,0,0 → 7: mild.
    answers = dict(zip([str(n) for n in range(1, 10)], [1, 1, 2, 1, 0, 1, 1, 0, 0], strict=True))
    assert scoring.score(PHQ9, answers).as_dict() == {
        "total": 7,
        "band": "mild",
        "risk": False,
        "subscales": {},
    }


def test_pss10_reverses_items_4_5_7_8():
    # Cohen's key: 0=4, 1=3, 2=2, 3=1, 4=0 on the positively stated items 4, 5, 7 and 8.
    answers = {str(n): 0 for n in range(1, 11)}
    assert scoring.score(PSS10, answers).total == 16  # four reversed items count 4 each
    answers.update({"4": 4, "5": 4, "7": 4, "8": 4})
    assert scoring.score(PSS10, answers).total == 0
    # Worked example: 2,3,3,1,1,2,1,1,2,2 → 2+3+3+3+3+2+3+3+2+2 = 26, moderate.
    example = dict(zip([str(n) for n in range(1, 11)], [2, 3, 3, 1, 1, 2, 1, 1, 2, 2], strict=True))
    result = scoring.score(PSS10, example)
    assert (result.total, result.band) == (26, "moderate")
    assert scoring.item_score(PSS10, "4", 1) == 3
    assert scoring.item_score(PSS10, "3", 1) == 1


def test_parental_stress_reverses_items_1_2_5_6_7_8_17_18():
    # Berry & Jones: reversed (1=5)(2=4)(3=3)(4=2)(5=1) on items 1, 2, 5, 6, 7, 8, 17 and 18.
    all_agree = {str(n): 5 for n in range(1, 19)}
    # 8 reversed items count 1, 10 others count 5: 8 + 50 = 58.
    assert scoring.score(PARENTAL, all_agree).total == 58
    reversed_items = {"1", "2", "5", "6", "7", "8", "17", "18"}
    lowest = {str(n): 5 if str(n) in reversed_items else 1 for n in range(1, 19)}
    assert scoring.score(PARENTAL, lowest).total == 18
    highest = {str(n): 1 if str(n) in reversed_items else 5 for n in range(1, 19)}
    assert scoring.score(PARENTAL, highest).total == 90


def test_missing_answer_names_the_item():
    answers = {str(n): 1 for n in range(1, 9)}
    with pytest.raises(scoring.AnswerError) as err:
        scoring.score(PHQ9, answers)
    assert err.value.item == "9"
    assert "9" in err.value.message


@pytest.mark.parametrize("bad", [4, -1, "2", 1.5, True])
def test_out_of_range_answer_names_the_item(bad):
    answers = {str(n): 0 for n in range(1, 8)}
    answers["3"] = bad
    with pytest.raises(scoring.AnswerError) as err:
        scoring.score(GAD7, answers)
    assert err.value.item == "3"


def test_an_item_of_another_version_is_refused():
    answers = {str(n): 0 for n in range(1, 8)}
    answers["8"] = 0
    with pytest.raises(scoring.AnswerError) as err:
        scoring.score(GAD7, answers)
    assert err.value.item == "8"


def test_a_draft_may_have_gaps_but_not_wrong_values():
    assert scoring.check_answers(PSS10, {"1": 2}, partial=True) == {"1": 2}
    with pytest.raises(scoring.AnswerError):
        scoring.check_answers(PSS10, {"1": 5}, partial=True)


def test_subscales_sum_their_items_after_reversal():
    definition = copy.deepcopy(PSS10)
    definition["subscales"] = [
        {"code": "helplessness", "items": ["1", "2", "3", "6", "9", "10"]},
        {"code": "self_efficacy", "items": ["4", "5", "7", "8"]},
    ]
    scoring.validate_definition(definition)
    answers = {str(n): 1 for n in range(1, 11)}
    result = scoring.score(definition, answers)
    assert result.subscales == {"helplessness": 6, "self_efficacy": 12}
    assert result.total == 18


# --- definitions refused with the reason -------------------------------------------------------


def _refused(definition, language: str = "en") -> list[str]:
    with translation.override(language), pytest.raises(scoring.DefinitionError) as err:
        scoring.validate_definition(definition)
    return err.value.messages


def test_band_gap_is_refused():
    definition = copy.deepcopy(GAD7)
    definition["bands"][1]["max"] = 8  # 9 is nowhere
    assert any("Gap" in m and "9–9" in m for m in _refused(definition))


def test_band_overlap_is_refused():
    definition = copy.deepcopy(GAD7)
    definition["bands"][1]["max"] = 11  # 10–11 in two bands
    assert any("overlap" in m and "10–11" in m for m in _refused(definition))


def test_bands_not_covering_the_range_are_refused():
    definition = copy.deepcopy(PSS10)
    definition["bands"][-1]["max"] = 39
    assert any("40" in m for m in _refused(definition))


def test_reversed_item_outside_the_scale_is_refused():
    definition = copy.deepcopy(PSS10)
    definition["reversed"] = ["4", "11"]
    assert any("11" in m and "outside the scale" in m for m in _refused(definition))


def test_risk_rule_naming_a_missing_item_is_refused():
    definition = copy.deepcopy(PHQ9)
    definition["risk_rules"] = [{"item": "10", "above": 0}]
    assert any("10" in m and "does not exist" in m for m in _refused(definition))


def test_items_without_options_or_duplicate_numbers_are_refused():
    definition = copy.deepcopy(GAD7)
    definition["items"][1]["number"] = "1"
    assert any("used twice" in m for m in _refused(definition))
    definition = copy.deepcopy(GAD7)
    definition["options"] = []
    assert any("no answer options" in m for m in _refused(definition))


def test_messages_are_translated():
    definition = copy.deepcopy(GAD7)
    definition["bands"][1]["max"] = 8
    assert _refused(definition, "ru") == [
        "Пропуск между диапазонами: для баллов 9–9 нет интерпретации."
    ]
