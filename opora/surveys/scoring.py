"""The scoring engine: a questionnaire definition (plain data) and answers in, a score out.

Pure: no database, no request. The same code checks a definition when a coordinator saves it
(`validate_definition`), checks answers (`check_answers`) and scores them (`score`) for the
client's page, the consultant's record and `POST /api/v1/instruments/{code}/score`.

A definition is a dict (stored as JSON on `InstrumentVersion.definition`):

    {
      "title": {"en": "...", "ru": "..."},          # per language; a language left out is absent
      "instructions": {"en": "..."},
      "languages": ["en"],                           # the languages the items exist in
      "options": [{"value": 0, "label": {"en": "Not at all"}}, ...],  # default for scale items
      "items": [
        {"number": "1", "type": "scale", "text": {"en": "..."}},      # numbered as published
        {"number": "10", "type": "single", "options": [...]},
        {"number": "11", "type": "multiple", "options": [...]},
        {"number": "12", "type": "text"},
      ],
      "reversed": ["4", "5"],                        # scored as (min + max − value)
      "total": ["1", "2", ...],                      # the items summed into the total
      "subscales": [{"code": "x", "title": {...}, "items": ["1", "2"]}],
      "bands": [{"code": "mild", "min": 5, "max": 9, "label": {...},
                 "client_text": {...}, "consultant_text": {...}}],
      "risk_rules": [{"item": "9", "above": 0, "text": {...}}],
      "required": true                               # every scored item must be answered
    }
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

ITEM_TYPES = ("scale", "single", "multiple", "text")
SCORED_TYPES = ("scale", "single")
TEXT_MAX = 2000


class DefinitionError(ValueError):
    """An inconsistent definition; `messages` are translated and say what to fix."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


class AnswerError(ValueError):
    """A missing or out-of-range answer; `item` is its published number."""

    def __init__(self, item: str, message: str) -> None:
        super().__init__(message)
        self.item = item
        self.message = message


@dataclass(frozen=True)
class Score:
    total: int
    band: str
    risk: bool
    subscales: dict[str, int] = field(default_factory=dict)
    risk_items: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "band": self.band,
            "risk": self.risk,
            "subscales": dict(self.subscales),
        }


# --- reading a definition -----------------------------------------------------------------------


def items(definition: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(definition.get("items") or [])


def item_options(definition: Mapping[str, Any], item: Mapping[str, Any]) -> list[dict[str, Any]]:
    if item.get("type") == "text":
        return []
    return list(item.get("options") or definition.get("options") or [])


def option_values(definition: Mapping[str, Any], item: Mapping[str, Any]) -> list[int]:
    return [o.get("value") for o in item_options(definition, item)]  # type: ignore[misc]


def _by_number(definition: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(i.get("number")): i for i in items(definition)}


def total_range(definition: Mapping[str, Any]) -> tuple[int, int]:
    """The lowest and highest total the scoring can give (after reversal, same range)."""
    by_number = _by_number(definition)
    low = high = 0
    for number in definition.get("total") or []:
        values = option_values(definition, by_number[str(number)])
        low += min(values)
        high += max(values)
    return low, high


def localized(text: Any, language: str) -> str:
    """A text in `language`, else Russian, else English, else any; "" when none."""
    if isinstance(text, str):
        return text
    if not isinstance(text, Mapping) or not text:
        return ""
    for lang in (language, "ru", "en"):
        if text.get(lang):
            return str(text[lang])
    return str(next(iter(text.values())))


def band_for(definition: Mapping[str, Any], total: int) -> dict[str, Any] | None:
    for band in definition.get("bands") or []:
        if band["min"] <= total <= band["max"]:
            return band
    return None


# --- checking a definition ----------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_definition(definition: Any) -> None:  # noqa: C901 (one list of rules, read top down)
    """Refuse an inconsistent definition with every reason found (translated)."""
    errors: list[str] = []
    if not isinstance(definition, Mapping):
        raise DefinitionError([_("The definition must be a JSON object.")])
    raw_items = definition.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise DefinitionError([_("The questionnaire has no items.")])
    numbers: list[str] = []
    for position, item in enumerate(raw_items, start=1):
        if not isinstance(item, Mapping) or not str(item.get("number") or "").strip():
            errors.append(_("Item %(position)s has no number.") % {"position": position})
            continue
        number = str(item["number"])
        if number in numbers:
            errors.append(_("Item number %(item)s is used twice.") % {"item": number})
        numbers.append(number)
        kind = item.get("type")
        if kind not in ITEM_TYPES:
            errors.append(
                _("Item %(item)s has an unknown type; use one of: %(types)s.")
                % {"item": number, "types": ", ".join(ITEM_TYPES)}
            )
            continue
        if kind == "text":
            continue
        options = item_options(definition, item)
        values = [o.get("value") if isinstance(o, Mapping) else None for o in options]
        if not options:
            errors.append(_("Item %(item)s has no answer options.") % {"item": number})
        elif not all(_is_int(v) for v in values):
            errors.append(
                _("Item %(item)s: every option needs a whole-number value.") % {"item": number}
            )
        elif len(set(values)) != len(values):
            errors.append(_("Item %(item)s: two options have the same value.") % {"item": number})
    if errors:
        raise DefinitionError(errors)

    by_number = _by_number(definition)
    scored = [str(n) for n in definition.get("total") or []]
    for number in scored:
        item = by_number.get(number)
        if item is None:
            errors.append(
                _("The total names item %(item)s, which does not exist.") % {"item": number}
            )
        elif item.get("type") not in SCORED_TYPES:
            errors.append(
                _("Item %(item)s cannot be scored: only scale and single-choice items count.")
                % {"item": number}
            )
    if len(set(scored)) != len(scored):
        errors.append(_("The total names an item twice."))
    for number in definition.get("reversed") or []:
        if str(number) not in scored:
            errors.append(
                _("Reversed item %(item)s is outside the scale (not one of the scored items).")
                % {"item": number}
            )
    for sub in definition.get("subscales") or []:
        code = str(sub.get("code") or "")
        if not code:
            errors.append(_("A subscale has no code."))
        for number in sub.get("items") or []:
            if str(number) not in scored:
                errors.append(
                    _("Subscale %(code)s names item %(item)s, which is not scored.")
                    % {"code": code, "item": number}
                )
    for rule in definition.get("risk_rules") or []:
        number = str(rule.get("item") or "")
        item = by_number.get(number)
        if item is None:
            errors.append(
                _("A risk rule names item %(item)s, which does not exist.") % {"item": number}
            )
        elif item.get("type") == "text" or not _is_int(rule.get("above")):
            errors.append(
                _("The risk rule on item %(item)s needs a whole-number threshold on a scored item.")
                % {"item": number}
            )
    if errors:
        raise DefinitionError(errors)
    if scored:
        errors.extend(_band_errors(definition))
    if errors:
        raise DefinitionError(errors)


def _band_errors(definition: Mapping[str, Any]) -> list[str]:
    """Bands must cover the possible totals exactly: no gap, no overlap, nothing outside."""
    low, high = total_range(definition)
    bands = definition.get("bands") or []
    if not bands:
        return [_("Add interpretation bands covering totals %(low)s–%(high)s.") % locals()]
    errors: list[str] = []
    for band in bands:
        if not (_is_int(band.get("min")) and _is_int(band.get("max"))) or band["min"] > band["max"]:
            return [
                _("Band %(code)s needs whole-number bounds, the lower not above the upper.")
                % {"code": band.get("code", "?")}
            ]
        if not band.get("code"):
            errors.append(_("A band has no code."))
    ordered = sorted(bands, key=lambda b: (b["min"], b["max"]))
    if ordered[0]["min"] != low:
        errors.append(
            _("The bands start at %(start)s but the lowest possible total is %(low)s.")
            % {"start": ordered[0]["min"], "low": low}
        )
    if ordered[-1]["max"] != high:
        errors.append(
            _("The bands end at %(end)s but the highest possible total is %(high)s.")
            % {"end": ordered[-1]["max"], "high": high}
        )
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after["min"] > before["max"] + 1:
            errors.append(
                _("Gap between bands: totals %(from)s–%(to)s have no interpretation.")
                % {"from": before["max"] + 1, "to": after["min"] - 1}
            )
        elif after["min"] <= before["max"]:
            errors.append(
                _("Bands %(a)s and %(b)s overlap at totals %(from)s–%(to)s.")
                % {
                    "a": before["code"],
                    "b": after["code"],
                    "from": after["min"],
                    "to": min(before["max"], after["max"]),
                }
            )
    return errors


# --- answers ------------------------------------------------------------------------------------


def check_answers(
    definition: Mapping[str, Any], answers: Mapping[str, Any], *, partial: bool = False
) -> dict[str, Any]:
    """The answers cleaned (keys as item numbers); AnswerError names the first bad item.

    With `partial` (a draft) missing answers are allowed; values are still checked.
    """
    by_number = _by_number(definition)
    cleaned: dict[str, Any] = {}
    for key in answers:
        if str(key) not in by_number:
            raise AnswerError(
                str(key), _("Item %(item)s is not in this questionnaire.") % {"item": key}
            )
    for number, item in by_number.items():
        value = answers.get(number)
        if value is None or value == "" or value == []:
            if not partial and item.get("type") in SCORED_TYPES:
                raise AnswerError(number, _("Answer item %(item)s.") % {"item": number})
            continue
        kind = item.get("type")
        allowed = option_values(definition, item)
        if kind == "text":
            if not isinstance(value, str) or len(value) > TEXT_MAX:
                raise AnswerError(
                    number,
                    _("Item %(item)s: write at most %(max)s characters.")
                    % {"item": number, "max": TEXT_MAX},
                )
            cleaned[number] = value
        elif kind == "multiple":
            chosen = value if isinstance(value, list) else [value]
            if not all(_is_int(v) and v in allowed for v in chosen):
                raise AnswerError(number, _out_of_range(number, allowed))
            cleaned[number] = sorted(set(chosen))
        else:
            if not _is_int(value) or value not in allowed:
                raise AnswerError(number, _out_of_range(number, allowed))
            cleaned[number] = value
    return cleaned


def _out_of_range(number: str, allowed: list[int]) -> str:
    return _("Item %(item)s: the answer must be one of %(values)s.") % {
        "item": number,
        "values": ", ".join(str(v) for v in sorted(allowed)),
    }


def item_score(definition: Mapping[str, Any], number: str, value: int) -> int:
    """The value counted for one item: reversed items count min + max − value."""
    if number in {str(n) for n in definition.get("reversed") or []}:
        values = option_values(definition, _by_number(definition)[number])
        return min(values) + max(values) - value
    return value


def score(definition: Mapping[str, Any], answers: Mapping[str, Any]) -> Score:
    """Score complete answers (checked here): total, band, subscales and risk."""
    cleaned = check_answers(definition, answers)
    counted = {
        str(n): item_score(definition, str(n), cleaned[str(n)])
        for n in definition.get("total") or []
    }
    total = sum(counted.values())
    band = band_for(definition, total)
    subscales = {
        str(sub["code"]): sum(counted[str(n)] for n in sub.get("items") or [])
        for sub in definition.get("subscales") or []
    }
    risk_items = tuple(
        str(rule["item"])
        for rule in definition.get("risk_rules") or []
        if _is_int(cleaned.get(str(rule["item"]))) and cleaned[str(rule["item"])] > rule["above"]
    )
    return Score(
        total=total,
        band=str(band["code"]) if band else "",
        risk=bool(risk_items),
        subscales=subscales,
        risk_items=risk_items,
    )
