"""The form-per-item builder of an instrument: the definition (see `scoring`) as rows of a form.

Pure: no database. A coordinator edits rows (items, their options, the scale's options,
subscales, bands, risk rules) through plain server round-trips: each "add", "remove" and
"move" button posts the whole form back and gets it re-rendered (works on any phone, no script).
`definition_from_form` turns the rows into the definition `scoring.validate_definition` checks;
`row_errors` places each problem next to the row it is about.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from opora.surveys import scoring

LANGUAGES = ("ru", "kk", "en")
ITEM_TYPES = scoring.ITEM_TYPES
MAX_ROWS = 200
# The keys the rows edit; any other key of a definition is carried through unchanged.
EDITED = {
    "title",
    "instructions",
    "languages",
    "options",
    "items",
    "reversed",
    "total",
    "subscales",
    "bands",
    "risk_rules",
}

Form = dict[str, Any]


def _texts(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        return {lang: (value if lang == "ru" else "") for lang in LANGUAGES}
    value = value if isinstance(value, Mapping) else {}
    return {lang: str(value.get(lang) or "") for lang in LANGUAGES}


def _option_rows(options: Any) -> list[dict[str, Any]]:
    return [
        {"value": str(o.get("value", "")), "label": _texts(o.get("label"))}
        for o in options or []
        if isinstance(o, Mapping)
    ]


def blank_item(number: str = "") -> dict[str, Any]:
    return {
        "number": number,
        "type": "scale",
        "text": _texts(None),
        "scored": True,
        "reversed": False,
        "subscale": "",
        "options": [],
    }


def blank_form() -> Form:
    return {
        "code": "",
        "name": "",
        "is_public": False,
        "title": _texts(None),
        "instructions": _texts(None),
        "options": [{"value": str(v), "label": _texts(None)} for v in range(0, 4)],
        "items": [blank_item("1")],
        "subscales": [],
        "bands": [],
        "risk_rules": [],
        "extra": "{}",
    }


def form_from_definition(
    *, code: str, name: str, is_public: bool, definition: Mapping[str, Any]
) -> Form:
    scored = {str(n) for n in definition.get("total") or []}
    reversed_ = {str(n) for n in definition.get("reversed") or []}
    subscale_of: dict[str, str] = {}
    for sub in definition.get("subscales") or []:
        for number in sub.get("items") or []:
            subscale_of.setdefault(str(number), str(sub.get("code") or ""))
    items = []
    for item in definition.get("items") or []:
        number = str(item.get("number") or "")
        items.append(
            {
                "number": number,
                "type": str(item.get("type") or "scale"),
                "text": _texts(item.get("text")),
                "scored": number in scored,
                "reversed": number in reversed_,
                "subscale": subscale_of.get(number, ""),
                "options": _option_rows(item.get("options")),
            }
        )
    extra = {k: v for k, v in definition.items() if k not in EDITED}
    return {
        "code": code,
        "name": name,
        "is_public": is_public,
        "title": _texts(definition.get("title")),
        "instructions": _texts(definition.get("instructions")),
        "options": _option_rows(definition.get("options")),
        "items": items,
        "subscales": [
            {"code": str(s.get("code") or ""), "title": _texts(s.get("title"))}
            for s in definition.get("subscales") or []
        ],
        "bands": [
            {
                "code": str(b.get("code") or ""),
                "min": str(b.get("min", "")),
                "max": str(b.get("max", "")),
                "label": _texts(b.get("label")),
                "client_text": _texts(b.get("client_text")),
                "consultant_text": _texts(b.get("consultant_text")),
            }
            for b in definition.get("bands") or []
        ],
        "risk_rules": [
            {
                "item": str(r.get("item") or ""),
                "above": str(r.get("above", "")),
                "text": _texts(r.get("text")),
            }
            for r in definition.get("risk_rules") or []
        ],
        "extra": json.dumps(extra, ensure_ascii=False),
    }


# --- reading the posted rows ---------------------------------------------------------------------


def _get(post: Mapping[str, Any], key: str, limit: int = 2000) -> str:
    return str(post.get(key) or "").strip()[:limit]


def _texts_from(post: Mapping[str, Any], prefix: str) -> dict[str, str]:
    return {lang: _get(post, f"{prefix}-{lang}") for lang in LANGUAGES}


def _count(post: Mapping[str, Any], key: str) -> int:
    try:
        return max(0, min(int(_get(post, key) or 0), MAX_ROWS))
    except ValueError:
        return 0


def _options_from(post: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "value": _get(post, f"{prefix}-{j}-value", 12),
            "label": _texts_from(post, f"{prefix}-{j}"),
        }
        for j in range(_count(post, f"{prefix}-count"))
    ]


def form_from_post(post: Mapping[str, Any]) -> Form:
    items = []
    for i in range(_count(post, "item-count")):
        p = f"item-{i}"
        kind = _get(post, f"{p}-type")
        items.append(
            {
                "number": _get(post, f"{p}-number", 12),
                "type": kind if kind in ITEM_TYPES else "scale",
                "text": _texts_from(post, f"{p}-text"),
                "scored": post.get(f"{p}-scored") == "on",
                "reversed": post.get(f"{p}-reversed") == "on",
                "subscale": _get(post, f"{p}-subscale", 40),
                "options": _options_from(post, f"{p}-opt"),
            }
        )
    return {
        "code": _get(post, "code", 40),
        "name": _get(post, "name", 200),
        "is_public": post.get("is_public") == "on",
        "title": _texts_from(post, "title"),
        "instructions": _texts_from(post, "instructions"),
        "options": _options_from(post, "opt"),
        "items": items,
        "subscales": [
            {
                "code": _get(post, f"sub-{i}-code", 40),
                "title": _texts_from(post, f"sub-{i}-title"),
            }
            for i in range(_count(post, "sub-count"))
        ],
        "bands": [
            {
                "code": _get(post, f"band-{i}-code", 40),
                "min": _get(post, f"band-{i}-min", 12),
                "max": _get(post, f"band-{i}-max", 12),
                "label": _texts_from(post, f"band-{i}-label"),
                "client_text": _texts_from(post, f"band-{i}-client"),
                "consultant_text": _texts_from(post, f"band-{i}-staff"),
            }
            for i in range(_count(post, "band-count"))
        ],
        "risk_rules": [
            {
                "item": _get(post, f"risk-{i}-item", 12),
                "above": _get(post, f"risk-{i}-above", 12),
                "text": _texts_from(post, f"risk-{i}-text"),
            }
            for i in range(_count(post, "risk-count"))
        ],
        "extra": _get(post, "extra", 20000) or "{}",
    }


# --- the add / remove / move buttons -------------------------------------------------------------


def _move(rows: list[Any], index: int, step: int) -> None:
    other = index + step
    if 0 <= index < len(rows) and 0 <= other < len(rows):
        rows[index], rows[other] = rows[other], rows[index]


def _next_number(items: list[dict[str, Any]]) -> str:
    numbers = [int(i["number"]) for i in items if str(i["number"]).isdigit()]
    return str(max(numbers, default=0) + 1)


def apply_action(form: Form, action: str) -> tuple[Form, str]:
    """Apply one row button (`add-item`, `remove-item-3`, `up-item-2`, `add-opt-1`, ...); returns
    the form and the id of the row to bring into view ("" when nothing applied)."""
    verb, _sep, rest = action.partition(":")
    target, _sep, index_text = rest.partition(":")
    index = int(index_text) if index_text.isdigit() else -1
    items = form["items"]
    lists = {
        "item": items,
        "sub": form["subscales"],
        "band": form["bands"],
        "risk": form["risk_rules"],
        "opt": form["options"],
    }
    if verb == "add":
        if target == "item" and len(items) < MAX_ROWS:
            items.append(blank_item(_next_number(items)))
            return form, f"item-{len(items) - 1}"
        if target == "sub":
            form["subscales"].append({"code": "", "title": _texts(None)})
            return form, f"sub-{len(form['subscales']) - 1}"
        if target == "band":
            form["bands"].append(
                {
                    "code": "",
                    "min": "",
                    "max": "",
                    "label": _texts(None),
                    "client_text": _texts(None),
                    "consultant_text": _texts(None),
                }
            )
            return form, f"band-{len(form['bands']) - 1}"
        if target == "risk":
            form["risk_rules"].append({"item": "", "above": "0", "text": _texts(None)})
            return form, f"risk-{len(form['risk_rules']) - 1}"
        if target == "opt":
            form["options"].append({"value": "", "label": _texts(None)})
            return form, "scale-options"
        if target == "item-opt" and 0 <= index < len(items):
            items[index]["options"].append({"value": "", "label": _texts(None)})
            return form, f"item-{index}"
        return form, ""
    if target == "item-opt":
        # remove-item-opt:<item>.<option>
        item_text, _dot, option_text = index_text.partition(".")
        if item_text.isdigit() and option_text.isdigit() and verb == "remove":
            options = items[int(item_text)]["options"] if int(item_text) < len(items) else []
            if int(option_text) < len(options):
                del options[int(option_text)]
            return form, f"item-{item_text}"
        return form, ""
    rows = lists.get(target)
    if rows is None or not 0 <= index < len(rows):
        return form, ""
    if verb == "remove":
        del rows[index]
        return form, ""
    if verb in ("up", "down"):
        _move(rows, index, -1 if verb == "up" else 1)
        return form, f"{target}-{max(0, min(index + (-1 if verb == 'up' else 1), len(rows) - 1))}"
    return form, ""


# --- rows → definition ----------------------------------------------------------------------------


def _number(value: str) -> Any:
    """A whole number where one is written; the text as is otherwise (validation says so)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _compact(texts: Mapping[str, str]) -> dict[str, str]:
    return {lang: text for lang, text in texts.items() if text}


def _options(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"value": _number(o["value"]), "label": _compact(o["label"])}
        for o in rows
        if o["value"] != "" or any(o["label"].values())
    ]


def definition_from_form(form: Form) -> dict[str, Any]:
    try:
        extra = json.loads(form.get("extra") or "{}")
    except ValueError:
        extra = {}
    definition: dict[str, Any] = (
        {k: v for k, v in extra.items() if k not in EDITED} if isinstance(extra, dict) else {}
    )
    items: list[dict[str, Any]] = []
    for row in form["items"]:
        item: dict[str, Any] = {"number": row["number"], "type": row["type"]}
        text = _compact(row["text"])
        if text:
            item["text"] = text
        if row["type"] in ("single", "multiple") and row["options"]:
            item["options"] = _options(row["options"])
        items.append(item)
    scored = [row["number"] for row in form["items"] if row["scored"] and row["number"]]
    languages = [lang for lang in LANGUAGES if any(row["text"].get(lang) for row in form["items"])]
    subscales = []
    for sub in form["subscales"]:
        members = [row["number"] for row in form["items"] if row["subscale"] == sub["code"]]
        entry: dict[str, Any] = {"code": sub["code"], "items": members}
        if _compact(sub["title"]):
            entry["title"] = _compact(sub["title"])
        subscales.append(entry)
    definition.update(
        {
            "title": _compact(form["title"]),
            "instructions": _compact(form["instructions"]),
            "languages": languages,
            "options": _options(form["options"]),
            "items": items,
            "reversed": [row["number"] for row in form["items"] if row["reversed"]],
            "total": scored,
            "subscales": subscales,
            "bands": [
                {
                    "code": b["code"],
                    "min": _number(b["min"]),
                    "max": _number(b["max"]),
                    "label": _compact(b["label"]),
                    "client_text": _compact(b["client_text"]),
                    "consultant_text": _compact(b["consultant_text"]),
                }
                for b in form["bands"]
            ],
            "risk_rules": [
                {"item": r["item"], "above": _number(r["above"]), "text": _compact(r["text"])}
                for r in form["risk_rules"]
            ],
        }
    )
    return definition


# --- problems next to their rows ------------------------------------------------------------------


def row_errors(definition: Mapping[str, Any]) -> dict[str, list[str]]:
    """The problems of a definition, by the id of the row they are about (`item-2`, `band-0`,
    `risk-1`, `sub-0`, `scale-options`); the same words as `scoring.validate_definition`, which
    stays the one judge (its list is shown above the form)."""
    found: dict[str, list[str]] = {}

    def add(row: str, message: str) -> None:
        found.setdefault(row, []).append(message)

    items = list(definition.get("items") or [])
    numbers: dict[str, int] = {}
    for i, item in enumerate(items):
        number = str(item.get("number") or "").strip()
        if not number:
            add(f"item-{i}", _("Item %(position)s has no number.") % {"position": i + 1})
            continue
        if number in numbers:
            add(f"item-{i}", _("Item number %(item)s is used twice.") % {"item": number})
        numbers.setdefault(number, i)
        if item.get("type") == "text":
            continue
        options = scoring.item_options(definition, item)
        values = [o.get("value") for o in options]
        where = f"item-{i}" if item.get("options") else "scale-options"
        if not options:
            add(where, _("Item %(item)s has no answer options.") % {"item": number})
        elif not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            add(
                where,
                _("Item %(item)s: every option needs a whole-number value.") % {"item": number},
            )
        elif len(set(values)) != len(values):
            add(where, _("Item %(item)s: two options have the same value.") % {"item": number})
    scored = [str(n) for n in definition.get("total") or []]
    for number in scored:
        index = numbers.get(number)
        if index is not None and items[index].get("type") not in scoring.SCORED_TYPES:
            add(
                f"item-{index}",
                _("Item %(item)s cannot be scored: only scale and single-choice items count.")
                % {"item": number},
            )
    for number in definition.get("reversed") or []:
        if str(number) not in scored and str(number) in numbers:
            add(
                f"item-{numbers[str(number)]}",
                _("Reversed item %(item)s is outside the scale (not one of the scored items).")
                % {"item": number},
            )
    for s, sub in enumerate(definition.get("subscales") or []):
        if not sub.get("code"):
            add(f"sub-{s}", _("A subscale has no code."))
        for number in sub.get("items") or []:
            if str(number) not in scored:
                row = f"item-{numbers[str(number)]}" if str(number) in numbers else f"sub-{s}"
                add(
                    row,
                    _("Subscale %(code)s names item %(item)s, which is not scored.")
                    % {"code": sub.get("code") or "?", "item": number},
                )
    for r, rule in enumerate(definition.get("risk_rules") or []):
        number = str(rule.get("item") or "")
        if number not in numbers:
            add(
                f"risk-{r}",
                _("A risk rule names item %(item)s, which does not exist.") % {"item": number},
            )
        elif items[numbers[number]].get("type") == "text" or not (
            isinstance(rule.get("above"), int) and not isinstance(rule.get("above"), bool)
        ):
            add(
                f"risk-{r}",
                _("The risk rule on item %(item)s needs a whole-number threshold on a scored item.")
                % {"item": number},
            )
    # The bands are judged once the items are sound (the possible totals depend on them), even
    # when another row is wrong: the coordinator sees every problem in one round.
    if scored and not any(key.startswith(("item-", "scale-")) for key in found):
        _band_row_errors(definition, add)
    return found


def _band_row_errors(definition: Mapping[str, Any], add: Any) -> None:
    bands = list(definition.get("bands") or [])
    if not bands:
        return
    for b, band in enumerate(bands):
        low_ok = isinstance(band.get("min"), int) and isinstance(band.get("max"), int)
        if not low_ok or band["min"] > band["max"]:
            add(
                f"band-{b}",
                _("Band %(code)s needs whole-number bounds, the lower not above the upper.")
                % {"code": band.get("code") or "?"},
            )
            return
        if not band.get("code"):
            add(f"band-{b}", _("A band has no code."))
    low, high = scoring.total_range(definition)
    order = sorted(range(len(bands)), key=lambda b: (bands[b]["min"], bands[b]["max"]))
    first, last = order[0], order[-1]
    if bands[first]["min"] != low:
        add(
            f"band-{first}",
            _("The bands start at %(start)s but the lowest possible total is %(low)s.")
            % {"start": bands[first]["min"], "low": low},
        )
    if bands[last]["max"] != high:
        add(
            f"band-{last}",
            _("The bands end at %(end)s but the highest possible total is %(high)s.")
            % {"end": bands[last]["max"], "high": high},
        )
    for before_i, after_i in zip(order, order[1:], strict=False):
        before, after = bands[before_i], bands[after_i]
        if after["min"] > before["max"] + 1:
            add(
                f"band-{after_i}",
                _("Gap between bands: totals %(from)s–%(to)s have no interpretation.")
                % {"from": before["max"] + 1, "to": after["min"] - 1},
            )
        elif after["min"] <= before["max"]:
            add(
                f"band-{after_i}",
                _("Bands %(a)s and %(b)s overlap at totals %(from)s–%(to)s.")
                % {
                    "a": before["code"],
                    "b": after["code"],
                    "from": after["min"],
                    "to": min(before["max"], after["max"]),
                },
            )
