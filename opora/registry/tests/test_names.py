from typing import Any

import pytest

from opora.registry.names import names_match, normalise_name_part, split_full_name

IVANOV = {"last_name": "Иванов", "first_name": "Иван", "patronymic": "Петрович"}


# --- normalise_name_part --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ИВАНОВ", "иванов"),
        ("  Иван   Петрович ", "иван петрович"),
        ("Королёв", "королев"),
        ("КОРОЛЁВ", "королев"),
        # "е" + combining diaeresis (decomposed ё) composes under NFC first.
        ("Короле\u0308в", "королев"),
        ("Әлиев", "алиев"),
        ("Ғалым", "галым"),
        ("Нұрлан", "нурлан"),
        ("Қайрат", "кайрат"),
        ("Үмбетов", "умбетов"),
        ("Өмір", "омир"),
        ("Жаңа", "жана"),
        ("Һ", "х"),
        ("Сапарұлы", "сапарулы"),
        # Latin look-alikes inside Cyrillic words.
        ("Ивaнов", "иванов"),
        ("CEPГEЙ", "сергей"),
        ("Ceрик", "серик"),
        ("Opлов", "орлов"),
        ("Pомaн", "роман"),
        ("Kиpилл", "кирилл"),
        ("Mаксим", "максим"),
        ("Tимур", "тимур"),
        ("HИНА", "нина"),
        ("Bера", "вера"),
        ("Xасанов", "хасанов"),
        ("Сеpгеевич", "сергеевич"),
        ("Yмаров", "умаров"),
        ("Әлiев", "алиев"),
        ("Əлиев", "алиев"),
        # A wholly Latin word stays Latin.
        ("Ivanov", "ivanov"),
        ("Иванов Ivan", "иванов ivan"),
        # Dashes and apostrophes normalised, spaces around hyphens removed.
        ("Иванова – Петрова", "иванова-петрова"),
        ("Иванова\u2011Петрова", "иванова-петрова"),
        ("Д’Артаньян", "д'артаньян"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalise_name_part(raw: str, expected: str) -> None:
    assert normalise_name_part(raw) == expected


def test_normalise_is_idempotent() -> None:
    for raw in ("Әлиев Нұрлан Сапарұлы", "CEPГEЙ", "Иванова – Петрова", "Королёв"):
        once = normalise_name_part(raw)
        assert normalise_name_part(once) == once


# --- split_full_name ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("full", "expected"),
    [
        ("Ахметов Ерлан Серикович", ("Ахметов", "Ерлан", "Серикович")),
        ("Сейтова Айгерим Болаткызы", ("Сейтова", "Айгерим", "Болаткызы")),
        ("Жумабаев Нурлан Сапар улы", ("Жумабаев", "Нурлан", "Сапар улы")),
        ("Жумабаев Нурлан Сапар ұлы", ("Жумабаев", "Нурлан", "Сапар ұлы")),
        ("Сейтова Айгерим Болат қызы", ("Сейтова", "Айгерим", "Болат қызы")),
        ("Мамедов Рашид Гусейн оглы", ("Мамедов", "Рашид", "Гусейн оглы")),
        ("Иванов Иван", ("Иванов", "Иван", "")),
        ("  Иванов   Иван  Петрович ", ("Иванов", "Иван", "Петрович")),
        ("Иванова-Петрова Анна Сергеевна", ("Иванова-Петрова", "Анна", "Сергеевна")),
        ("Иванова - Петрова Анна", ("Иванова-Петрова", "Анна", "")),
    ],
)
def test_split_full_name(full: str, expected: tuple[str, str, str]) -> None:
    assert split_full_name(full) == expected


@pytest.mark.parametrize(
    "full",
    ["", "   ", "Иванов", "Иванов Иван Петрович Сидоров", "Жумабаев Нурлан Сапар Болат"],
)
def test_split_full_name_rejects(full: str) -> None:
    with pytest.raises(ValueError):
        split_full_name(full)


# --- names_match: accepted ------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        "Иванов Иван Петрович",
        "иванов иван петрович",
        "ИВАНОВ ИВАН ПЕТРОВИЧ",
        "  Иванов    Иван\tПетрович  ",
        "Иванов Иван",  # patronymic left out by the user
        "Ивaнoв Ивaн Пeтрoвич",  # Latin a, o, e
    ],
)
def test_match_accepts(given: str) -> None:
    assert names_match(given, **IVANOV)


def test_yo_and_ye() -> None:
    assert names_match(
        "Королев Сергей Павлович", last_name="Королёв", first_name="Сергей", patronymic="Павлович"
    )
    assert names_match(
        "Королёв Сергей Павлович", last_name="Королев", first_name="Сергей", patronymic="Павлович"
    )
    assert names_match(
        "Соловьев Петр Семенович", last_name="Соловьёв", first_name="Пётр", patronymic="Семёнович"
    )


@pytest.mark.parametrize(
    ("given", "last", "first", "patronymic"),
    [
        ("Алиев Галым Нурланович", "Әлиев", "Ғалым", "Нұрланович"),
        ("Әлиев Ғалым Нұрланович", "Алиев", "Галым", "Нурланович"),
        ("Нурланов Кайрат", "Нұрланов", "Қайрат", "Сапарұлы"),
        ("Сейтова Айгерим Болаткызы", "Сейтова", "Айгерім", "Болатқызы"),
        ("Омаров Нурлан Айдарулы", "Өмаров", "Нұрлан", "Айдарұлы"),
    ],
)
def test_kazakh_letters(given: str, last: str, first: str, patronymic: str) -> None:
    assert names_match(given, last_name=last, first_name=first, patronymic=patronymic)


def test_missing_patronymic_on_each_side() -> None:
    # Given without patronymic, registry with.
    assert names_match("Иванов Иван", **IVANOV)
    # Registry without patronymic (None, empty, or a placeholder), given with.
    for none in (None, "", "  ", "-"):
        assert names_match(
            "Иванов Иван Петрович", last_name="Иванов", first_name="Иван", patronymic=none
        )
    # Neither side.
    assert names_match("Иванов Иван", last_name="Иванов", first_name="Иван", patronymic=None)


@pytest.mark.parametrize(
    ("given", "registry_patronymic"),
    [
        ("Жумабаев Нурлан Сапар улы", "Сапар улы"),
        ("Жумабаев Нурлан Сапар ұлы", "Сапар улы"),
        ("Жумабаев Нурлан Сапарұлы", "Сапар улы"),
        ("Жумабаев Нурлан Сапар улы", "Сапарұлы"),
        ("Жумабаев Нурлан Сапар-улы", "Сапар улы"),
        ("Жумабаев Нурлан", "Сапар улы"),
    ],
)
def test_multiword_kazakh_patronymic(given: str, registry_patronymic: str) -> None:
    assert names_match(
        given, last_name="Жумабаев", first_name="Нурлан", patronymic=registry_patronymic
    )


def test_multiword_patronymic_when_registry_has_none() -> None:
    assert names_match(
        "Жумабаев Нурлан Сапар улы", last_name="Жумабаев", first_name="Нурлан", patronymic=None
    )
    # Two extra words that are not a Turkic patronymic are not a patronymic at all.
    assert not names_match(
        "Жумабаев Нурлан Сапар Болат", last_name="Жумабаев", first_name="Нурлан", patronymic=None
    )


def test_double_surname_with_hyphen() -> None:
    reg = {"last_name": "Иванова-Петрова", "first_name": "Анна", "patronymic": "Сергеевна"}
    assert names_match("Иванова-Петрова Анна Сергеевна", **reg)
    assert names_match("Иванова – Петрова Анна Сергеевна", **reg)
    assert not names_match("Иванова Анна Сергеевна", **reg)
    assert not names_match("Иванова Петрова Анна Сергеевна", **reg)


def test_multiword_registry_first_name() -> None:
    reg: dict[str, Any] = {"last_name": "Ким", "first_name": "Анна Мария", "patronymic": None}
    assert names_match("Ким Анна Мария", **reg)
    assert not names_match("Ким Анна", **reg)


# --- names_match: rejected ------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        "Иванов Иван Павлович",  # different patronymic
        "Иванова Иван Петрович",  # different last name
        "Иванов Игорь Петрович",  # different first name
        "Иван Иванов Петрович",  # swapped
        "Иван Иванов",  # "first last"
        "Иван Петрович Иванов",  # "first patronymic last"
        "Иванов",  # one word
        "Иван",
        "",
        "   ",
        "Иванов И. П.",  # initials
        "Иванов И.П.",
        "Иванов И П",
        "Иванов Иван П.",
        "Иванов Иван П",
        "Иванов Иван Петрович Сидоров",  # extra word
        "Иванов Иван Петрович Петрович",
        "Ivanov Ivan Petrovich",  # transliteration is a different spelling
        "Иванов Иванн Петрович",
        "Иванов-Петров Иван Петрович",
    ],
)
def test_match_rejects(given: str) -> None:
    assert not names_match(given, **IVANOV)


def test_female_form_rejected() -> None:
    assert not names_match("Иванова Анна", last_name="Иванов", first_name="Анна", patronymic=None)
    assert not names_match("Иванов Анна", last_name="Иванова", first_name="Анна", patronymic=None)


def test_different_kazakh_patronymic_rejected() -> None:
    assert not names_match(
        "Жумабаев Нурлан Болат улы",
        last_name="Жумабаев",
        first_name="Нурлан",
        patronymic="Сапар улы",
    )
    assert not names_match(
        "Сейтова Айгерим Болатулы",
        last_name="Сейтова",
        first_name="Айгерим",
        patronymic="Болаткызы",
    )


def test_empty_registry_names_never_match() -> None:
    assert not names_match("Иванов Иван", last_name="", first_name="Иван", patronymic=None)
    assert not names_match("Иванов Иван", last_name="Иванов", first_name="  ", patronymic=None)
    assert not names_match("", last_name="", first_name="", patronymic=None)


def test_latin_lookalikes_only_map_to_their_twin() -> None:
    # "n" has no Cyrillic twin, so a word holding it is left alone and does not match.
    assert not names_match("Ивanов Иван", **IVANOV)
    assert not names_match("Иванов Ivan", **IVANOV)
    # Every letter swapped for its twin except one Cyrillic letter still counts as Cyrillic.
    assert names_match(
        "Kaйpaт Tулeгeнoв", last_name="Кайрат", first_name="Тулегенов", patronymic=None
    )
