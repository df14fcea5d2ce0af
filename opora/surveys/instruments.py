"""The instruments shipped with Opora, as data (loaded by migration 0002 and `load_instruments`).

Item wording is the published English wording (sources and licences: docs/QUESTIONNAIRES.md). No
Russian or Kazakh item text is shipped: a published translation's exact wording could not be
verified here, and a validated instrument is not translated by us. The band labels and the
feedback texts are Opora's own (not part of any instrument) and are given in Russian and English.
"""

from __future__ import annotations

from typing import Any

FREQUENCY_2_WEEKS = [
    {"value": 0, "label": {"en": "Not at all"}},
    {"value": 1, "label": {"en": "Several days"}},
    {"value": 2, "label": {"en": "More than half the days"}},
    {"value": 3, "label": {"en": "Nearly every day"}},
]

SEEK_HELP_RU = "Если вам тяжело, запишитесь на консультацию — специалист поможет разобраться."
SEEK_HELP_EN = "If things feel hard, book a consultation: a specialist will help you sort it out."


def _band(
    code: str, low: int, high: int, ru: str, en: str, client_ru: str, client_en: str, staff: str
) -> dict[str, Any]:
    return {
        "code": code,
        "min": low,
        "max": high,
        "label": {"ru": ru, "en": en},
        "client_text": {"ru": client_ru, "en": client_en},
        "consultant_text": {"ru": staff},
    }


PHQ9_ITEMS = [
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself — or that you are a failure or have let yourself or your "
    "family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite — "
    "being so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
]

PHQ9: dict[str, Any] = {
    "title": {"en": "Patient Health Questionnaire (PHQ-9)"},
    "instructions": {
        "en": "Over the last 2 weeks, how often have you been bothered by any of the following "
        "problems?"
    },
    "languages": ["en"],
    "options": FREQUENCY_2_WEEKS,
    "items": [
        {"number": str(n), "type": "scale", "text": {"en": text}}
        for n, text in enumerate(PHQ9_ITEMS, start=1)
    ],
    "reversed": [],
    "total": [str(n) for n in range(1, 10)],
    "subscales": [],
    "bands": [
        _band(
            "minimal",
            0,
            4,
            "Минимальные симптомы",
            "Minimal",
            "Признаков депрессии почти нет.",
            "Almost no signs of depression.",
            "Минимальная выраженность депрессивных симптомов (PHQ-9 0–4).",
        ),
        _band(
            "mild",
            5,
            9,
            "Лёгкая степень",
            "Mild",
            "Есть лёгкие признаки подавленности. " + SEEK_HELP_RU,
            "There are mild signs of low mood. " + SEEK_HELP_EN,
            "Лёгкая депрессия (PHQ-9 5–9): наблюдение, повторить опрос.",
        ),
        _band(
            "moderate",
            10,
            14,
            "Умеренная степень",
            "Moderate",
            "Признаки подавленности выражены умеренно. " + SEEK_HELP_RU,
            "Signs of low mood are moderate. " + SEEK_HELP_EN,
            "Умеренная депрессия (PHQ-9 10–14): консультация, рассмотреть направление.",
        ),
        _band(
            "moderately_severe",
            15,
            19,
            "Выше умеренной",
            "Moderately severe",
            "Признаки подавленности выражены сильно. Пожалуйста, запишитесь на консультацию.",
            "Signs of low mood are strong. Please book a consultation.",
            "Умеренно тяжёлая депрессия (PHQ-9 15–19): направить к специалисту.",
        ),
        _band(
            "severe",
            20,
            27,
            "Тяжёлая степень",
            "Severe",
            "Признаки подавленности выражены очень сильно. Пожалуйста, обратитесь за помощью "
            "как можно скорее.",
            "Signs of low mood are very strong. Please get help as soon as possible.",
            "Тяжёлая депрессия (PHQ-9 20–27): срочное направление к специалисту.",
        ),
    ],
    "risk_rules": [
        {
            "item": "9",
            "above": 0,
            "text": {
                "ru": "Ответ на вопрос 9 (мысли о смерти или самоповреждении) выше 0.",
                "en": "Item 9 (thoughts of death or self-harm) answered above 0.",
            },
        }
    ],
}

GAD7_ITEMS = [
    "Feeling nervous, anxious, or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid, as if something awful might happen",
]

GAD7: dict[str, Any] = {
    "title": {"en": "Generalized Anxiety Disorder scale (GAD-7)"},
    "instructions": {
        "en": "Over the last 2 weeks, how often have you been bothered by the following problems?"
    },
    "languages": ["en"],
    "options": FREQUENCY_2_WEEKS,
    "items": [
        {"number": str(n), "type": "scale", "text": {"en": text}}
        for n, text in enumerate(GAD7_ITEMS, start=1)
    ],
    "reversed": [],
    "total": [str(n) for n in range(1, 8)],
    "subscales": [],
    "bands": [
        _band(
            "minimal",
            0,
            4,
            "Минимальная тревога",
            "Minimal anxiety",
            "Признаков тревоги почти нет.",
            "Almost no signs of anxiety.",
            "Минимальная тревога (GAD-7 0–4).",
        ),
        _band(
            "mild",
            5,
            9,
            "Лёгкая тревога",
            "Mild anxiety",
            "Есть лёгкие признаки тревоги. " + SEEK_HELP_RU,
            "There are mild signs of anxiety. " + SEEK_HELP_EN,
            "Лёгкая тревога (GAD-7 5–9): наблюдение.",
        ),
        _band(
            "moderate",
            10,
            14,
            "Умеренная тревога",
            "Moderate anxiety",
            "Тревога выражена умеренно. " + SEEK_HELP_RU,
            "Anxiety is moderate. " + SEEK_HELP_EN,
            "Умеренная тревога (GAD-7 10–14): вероятно клинически значимая, уточнить.",
        ),
        _band(
            "severe",
            15,
            21,
            "Выраженная тревога",
            "Severe anxiety",
            "Тревога выражена сильно. Пожалуйста, запишитесь на консультацию.",
            "Anxiety is strong. Please book a consultation.",
            "Тяжёлая тревога (GAD-7 15–21): направить к специалисту.",
        ),
    ],
    "risk_rules": [],
}

PSS10_ITEMS = [
    "been upset because of something that happened unexpectedly?",
    "felt that you were unable to control the important things in your life?",
    "felt nervous and “stressed”?",
    "felt confident about your ability to handle your personal problems?",
    "felt that things were going your way?",
    "found that you could not cope with all the things that you had to do?",
    "been able to control irritations in your life?",
    "felt that you were on top of things?",
    "been angered because of things that were outside of your control?",
    "felt difficulties were piling up so high that you could not overcome them?",
]

PSS10: dict[str, Any] = {
    "title": {"en": "Perceived Stress Scale (PSS-10)"},
    "instructions": {
        "en": "The questions in this scale ask you about your feelings and thoughts during the "
        "last month. In each case, please indicate how often you felt or thought a certain way. "
        "In the last month, how often have you…"
    },
    "languages": ["en"],
    "options": [
        {"value": 0, "label": {"en": "Never"}},
        {"value": 1, "label": {"en": "Almost never"}},
        {"value": 2, "label": {"en": "Sometimes"}},
        {"value": 3, "label": {"en": "Fairly often"}},
        {"value": 4, "label": {"en": "Very often"}},
    ],
    "items": [
        {"number": str(n), "type": "scale", "text": {"en": text}}
        for n, text in enumerate(PSS10_ITEMS, start=1)
    ],
    "reversed": ["4", "5", "7", "8"],
    "total": [str(n) for n in range(1, 11)],
    "subscales": [],
    "bands": [
        _band(
            "low",
            0,
            13,
            "Низкий уровень стресса",
            "Low stress",
            "Уровень воспринимаемого стресса низкий.",
            "Your perceived stress is low.",
            "Низкий воспринимаемый стресс (PSS-10 0–13).",
        ),
        _band(
            "moderate",
            14,
            26,
            "Умеренный уровень стресса",
            "Moderate stress",
            "Уровень воспринимаемого стресса умеренный. " + SEEK_HELP_RU,
            "Your perceived stress is moderate. " + SEEK_HELP_EN,
            "Умеренный воспринимаемый стресс (PSS-10 14–26).",
        ),
        _band(
            "high",
            27,
            40,
            "Высокий уровень стресса",
            "High stress",
            "Уровень воспринимаемого стресса высокий. Поговорите со специалистом: запишитесь "
            "на консультацию.",
            "Your perceived stress is high. Talk to a specialist: book a consultation.",
            "Высокий воспринимаемый стресс (PSS-10 27–40): предложить консультацию.",
        ),
    ],
    "risk_rules": [],
}

PARENTAL_ITEMS = [
    "I am happy in my role as a parent.",
    "There is little or nothing I wouldn't do for my child(ren) if it was necessary.",
    "Caring for my child(ren) sometimes takes more time and energy than I have to give.",
    "I sometimes worry whether I am doing enough for my child(ren).",
    "I feel close to my child(ren).",
    "I enjoy spending time with my child(ren).",
    "My child(ren) is an important source of affection for me.",
    "Having child(ren) gives me a more certain and optimistic view for the future.",
    "The major source of stress in my life is my child(ren).",
    "Having child(ren) leaves little time and flexibility in my life.",
    "Having child(ren) has been a financial burden.",
    "It is difficult to balance different responsibilities because of my child(ren).",
    "The behavior of my child(ren) is often embarrassing or stressful to me.",
    "If I had it to do over again, I might decide not to have child(ren).",
    "I feel overwhelmed by the responsibility of being a parent.",
    "Having child(ren) has meant having too few choices and too little control over my life.",
    "I am satisfied as a parent.",
    "I find my child(ren) enjoyable.",
]

# The published scale has no cut-off scores (Berry & Jones 1995; Louie, Cromer & Berry 2017
# review only descriptive norms), so one band covers every total: higher means more stress.
PARENTAL: dict[str, Any] = {
    "title": {"en": "Parental Stress Scale (Berry & Jones, 1995)"},
    "instructions": {
        "en": "The following statements describe feelings and perceptions about the experience "
        "of being a parent. Think of each of the items in terms of how your relationship with "
        "your child or children typically is. Please indicate the degree to which you agree or "
        "disagree with the following items."
    },
    "languages": ["en"],
    "options": [
        {"value": 1, "label": {"en": "Strongly disagree"}},
        {"value": 2, "label": {"en": "Disagree"}},
        {"value": 3, "label": {"en": "Undecided"}},
        {"value": 4, "label": {"en": "Agree"}},
        {"value": 5, "label": {"en": "Strongly agree"}},
    ],
    "items": [
        {"number": str(n), "type": "scale", "text": {"en": text}}
        for n, text in enumerate(PARENTAL_ITEMS, start=1)
    ],
    "reversed": ["1", "2", "5", "6", "7", "8", "17", "18"],
    "total": [str(n) for n in range(1, 19)],
    "subscales": [],
    "bands": [
        _band(
            "scored",
            18,
            90,
            "Балл родительского стресса",
            "Parental stress score",
            "Чем выше балл (от 18 до 90), тем больше стресса связано у вас с ролью родителя. "
            "У шкалы нет опубликованных пороговых значений: обсудите результат со специалистом.",
            "The higher the score (18 to 90), the more stress you feel in your role as a parent. "
            "The scale has no published cut-offs: discuss your result with a specialist.",
            "Parental Stress Scale: 18–90, выше — больше стресса; пороговых значений нет, "
            "сравнивайте с повторными замерами клиента.",
        )
    ],
    "risk_rules": [],
}

# code → (name, definition, offered openly on the portal)
SHIPPED: dict[str, tuple[str, dict[str, Any], bool]] = {
    "phq-9": ("PHQ-9", PHQ9, True),
    "gad-7": ("GAD-7", GAD7, True),
    "pss-10": ("PSS-10", PSS10, True),
    # Not offered openly: its UK distributor asks that the copyright owner (Prof. J. Berry)
    # authorise it before it goes into an electronic system (docs/QUESTIONNAIRES.md). A service
    # that has that authorisation ticks "offered on the portal" in the builder.
    "parental-stress": ("Parental Stress Scale", PARENTAL, False),
}
