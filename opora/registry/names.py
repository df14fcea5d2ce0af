"""Tolerant but strict full-name matching against the registry (ЦБД/ЦБДИ).

Tolerant of how people type a name (case, ё/е, Kazakh letters on a Russian keyboard, Latin
look-alike letters, extra spaces); strict about which person it is (order, every part).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["names_match", "normalise_name_part", "split_full_name"]

# ё/е and Kazakh-specific letters: registries and users spell the same name both ways.
# Applied after casefold, so only lower case is needed.
_FOLD = str.maketrans(
    {
        "ё": "е",
        "ә": "а",
        "ғ": "г",
        "қ": "к",
        "ң": "н",
        "ө": "о",
        "ұ": "у",
        "ү": "у",
        "һ": "х",
        "і": "и",
    }
)

# Latin letters that look like Cyrillic ones (after casefold: "H" -> "h" was Н, "B" -> "b" was
# В). "i" stands in for Kazakh "і" and "ə" (schwa) for "ә", both common on Latin layouts.
_LOOKALIKES = str.maketrans(
    {
        "a": "а",
        "e": "е",
        "o": "о",
        "p": "р",
        "c": "с",
        "x": "х",
        "y": "у",
        "k": "к",
        "m": "м",
        "t": "т",
        "h": "н",
        "b": "в",
        "i": "и",
        "ə": "а",
    }
)

_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"))
_APOSTROPHES = str.maketrans(dict.fromkeys("\u2018\u2019\u02bc\u02b9\u00b4`\u2032", "'"))

_LETTER_RUN = re.compile(r"[^\W\d_]+")
_CYRILLIC = re.compile(r"[\u0400-\u052f]")
_LATIN = re.compile(r"[a-zə]")
_SPACED_HYPHEN = re.compile(r"\s*-\s*")
# Spaces and hyphens inside a patronymic: "Сапар улы", "Сапар-улы" and "Сапарұлы" are one name.
_PATRONYMIC_SEPARATORS = re.compile(r"[\s-]+")

# Trailing words of Turkic patronymics written separately ("Сапар улы", "Гусейн оглы"),
# compared after normalisation (so "ұлы"/"қызы" are covered).
_PATRONYMIC_SUFFIXES = frozenset({"улы", "уулу", "оглы", "огли", "кызы", "гызы", "кизи"})


def _fix_lookalikes(match: re.Match[str]) -> str:
    word = match.group()
    if _LATIN.search(word) and _CYRILLIC.search(word):
        return word.translate(_LOOKALIKES)
    return word


def _tidy(s: str) -> str:
    """NFC, unify dashes and apostrophes, collapse whitespace, no spaces around hyphens."""
    s = unicodedata.normalize("NFC", s).translate(_DASHES).translate(_APOSTROPHES)
    return _SPACED_HYPHEN.sub("-", " ".join(s.split()))


def normalise_name_part(s: str) -> str:
    """Comparable form of a name or name part: casefolded, ё→е, Kazakh letters folded."""
    s = _tidy(s).casefold()
    # Look-alikes are fixed per word and only in words that also hold Cyrillic letters, so a
    # name written wholly in Latin stays Latin and never matches a Cyrillic one by accident.
    s = _LETTER_RUN.sub(_fix_lookalikes, s)
    return s.translate(_FOLD)


def _is_patronymic(tokens: list[str]) -> bool:
    """One word, or a stem plus a separately written Turkic suffix ("Сапар улы")."""
    if len(tokens) == 1:
        return True
    return len(tokens) == 2 and normalise_name_part(tokens[1]) in _PATRONYMIC_SUFFIXES


def split_full_name(full_name: str) -> tuple[str, str, str]:
    """Split "Фамилия Имя [Отчество]" into (last, first, patronymic); patronymic may be "".

    Raises ValueError when there are fewer than two words or the words after the first name
    are not one patronymic.
    """
    tokens = _tidy(full_name or "").split()
    if len(tokens) < 2:
        raise ValueError("A full name needs at least a last name and a first name.")
    last, first, rest = tokens[0], tokens[1], tokens[2:]
    if rest and not _is_patronymic(rest):
        raise ValueError("Too many words for last name, first name and patronymic.")
    return last, first, " ".join(rest)


def _squash_patronymic(s: str) -> str:
    return _PATRONYMIC_SEPARATORS.sub("", s)


def names_match(
    given_full_name: str, *, last_name: str, first_name: str, patronymic: str | None
) -> bool:
    """True iff ``given_full_name`` ("Фамилия Имя [Отчество]") names the registry person.

    Last and first names must match after normalisation; the patronymic must match too
    unless either side lacks one. Other word orders and initials are never accepted.
    """
    if not given_full_name or "." in given_full_name:
        return False
    given = normalise_name_part(given_full_name).split()
    last = normalise_name_part(last_name or "").split()
    first = normalise_name_part(first_name or "").split()
    if not last or not first:
        return False
    # Align on the registry's own word counts so multiword registry fields still work.
    n = len(last) + len(first)
    if given[: len(last)] != last or given[len(last) : n] != first:
        return False
    rest = given[n:]
    if not rest:
        return True
    registry_patronymic = normalise_name_part(patronymic or "")
    # Registries write a missing patronymic as "", "-" and the like.
    if not any(c.isalpha() for c in registry_patronymic):
        return _is_patronymic(rest)
    return _squash_patronymic(" ".join(rest)) == _squash_patronymic(registry_patronymic)
