"""The form-per-item builder: the rows hold a definition without loss, row buttons add, move and
remove, and save-time problems are shown next to the row they are about."""

import copy
import re

import pytest
from django.urls import reverse

from opora.surveys import builder, scoring
from opora.surveys.instruments import GAD7, SHIPPED
from opora.surveys.models import InstrumentVersion
from opora.surveys.tests.factories import version

pytestmark = pytest.mark.django_db


def as_post(form, action):
    """The builder's form as the browser posts it."""
    data = {
        "code": form["code"],
        "name": form["name"],
        "extra": form["extra"],
        "action": action,
        "opt-count": len(form["options"]),
        "item-count": len(form["items"]),
        "sub-count": len(form["subscales"]),
        "band-count": len(form["bands"]),
        "risk-count": len(form["risk_rules"]),
    }
    if form["is_public"]:
        data["is_public"] = "on"

    def texts(prefix, values):
        for lang, text in values.items():
            data[f"{prefix}-{lang}"] = text

    texts("title", form["title"])
    texts("instructions", form["instructions"])
    for j, option in enumerate(form["options"]):
        data[f"opt-{j}-value"] = option["value"]
        texts(f"opt-{j}", option["label"])
    for i, item in enumerate(form["items"]):
        p = f"item-{i}"
        data.update({f"{p}-number": item["number"], f"{p}-type": item["type"]})
        data[f"{p}-subscale"] = item["subscale"]
        data[f"{p}-opt-count"] = len(item["options"])
        for flag in ("scored", "reversed"):
            if item[flag]:
                data[f"{p}-{flag}"] = "on"
        texts(f"{p}-text", item["text"])
        for j, option in enumerate(item["options"]):
            data[f"{p}-opt-{j}-value"] = option["value"]
            texts(f"{p}-opt-{j}", option["label"])
    for i, sub in enumerate(form["subscales"]):
        data[f"sub-{i}-code"] = sub["code"]
        texts(f"sub-{i}-title", sub["title"])
    for i, band in enumerate(form["bands"]):
        data.update(
            {
                f"band-{i}-code": band["code"],
                f"band-{i}-min": band["min"],
                f"band-{i}-max": band["max"],
            }
        )
        texts(f"band-{i}-label", band["label"])
        texts(f"band-{i}-client", band["client_text"])
        texts(f"band-{i}-staff", band["consultant_text"])
    for i, rule in enumerate(form["risk_rules"]):
        data.update({f"risk-{i}-item": rule["item"], f"risk-{i}-above": rule["above"]})
        texts(f"risk-{i}-text", rule["text"])
    return data


def _form(definition, code="gad-x", name="GAD X"):
    return builder.form_from_definition(
        code=code, name=name, is_public=False, definition=copy.deepcopy(definition)
    )


@pytest.mark.parametrize("code", sorted(SHIPPED))
def test_the_rows_hold_every_shipped_definition_without_loss(code):
    definition = SHIPPED[code][1]
    form = _form(definition)
    assert builder.definition_from_form(form) == definition
    # ...and through the posted form too.
    posted = builder.form_from_post(as_post(form, "save"))
    assert builder.definition_from_form(posted) == definition


def test_add_move_and_remove_rows():
    form = _form(GAD7)
    form, row = builder.apply_action(form, "add:item")
    assert row == "item-7" and form["items"][-1]["number"] == "8"
    form, _row = builder.apply_action(form, "up:item:7")
    assert [i["number"] for i in form["items"]][-2:] == ["8", "7"]
    form, _row = builder.apply_action(form, "add:item-opt:6")
    assert len(form["items"][6]["options"]) == 1
    form, _row = builder.apply_action(form, "remove:item-opt:6.0")
    assert form["items"][6]["options"] == []
    form, _row = builder.apply_action(form, "remove:item:6")
    assert [i["number"] for i in form["items"]] == ["1", "2", "3", "4", "5", "6", "7"]
    form, _row = builder.apply_action(form, "remove:band:99")  # out of range: nothing
    assert len(form["bands"]) == len(GAD7["bands"])
    form, _row = builder.apply_action(form, "add:risk")
    assert form["risk_rules"][-1]["item"] == ""


def _errors_of(html, row):
    found = re.search(rf'<ul class="builder-errors" id="{row}-errors">(.*?)</ul>', html, re.S)
    return found.group(1) if found else ""


def test_the_builder_page_round_trips_and_saves_a_new_version(client, coordinator):
    client.force_login(coordinator)
    url = reverse("surveys:instrument_build", args=["gad-7"])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="item-count" value="7"' in html and 'id="item-6"' in html
    form = _form(version("gad-7").definition, code="gad-7", name="GAD-7")
    added = client.post(url, as_post(form, "add:item"))
    assert added.status_code == 200
    assert 'name="item-count" value="8"' in added.content.decode()
    before = version("gad-7").number
    form["items"][0]["text"]["ru"] = "Нервозность, тревога или раздражительность"
    preview = client.post(url, as_post(form, "preview"))
    assert 'id="preview"' in preview.content.decode()
    saved = client.post(url, as_post(form, "save"))
    assert saved.status_code == 302 and saved.url == url
    current = version("gad-7")
    assert current.number == before + 1
    assert current.definition["items"][0]["text"]["ru"].startswith("Нервозность")
    assert current.definition["languages"] == ["ru", "en"]


@pytest.mark.parametrize(
    ("spoil", "row", "words"),
    [
        (lambda f: f["bands"][0].update({"max": "3"}), "band-1", "4–4"),
        (lambda f: f["bands"][1].update({"min": "3"}), "band-1", "3–4"),
        (lambda f: f["items"][2].update({"scored": False, "reversed": True}), "item-2", "3"),
        (
            lambda f: f["risk_rules"].append({"item": "42", "above": "0", "text": {}}),
            "risk-0",
            "42",
        ),
    ],
    ids=["band gap", "band overlap", "reversed outside the scale", "risk rule on no item"],
)
def test_a_problem_is_shown_next_to_its_row_and_nothing_is_saved(
    client, coordinator, spoil, row, words
):
    client.force_login(coordinator)
    form = _form(GAD7)
    spoil(form)
    page = client.post(reverse("surveys:instrument_build_new"), as_post(form, "save"))
    assert page.status_code == 400
    html = page.content.decode()
    assert 'id="definition-errors"' in html
    assert words in _errors_of(html, row)
    assert not InstrumentVersion.objects.filter(instrument__code="gad-x").exists()


def test_a_new_questionnaire_from_rows(client, coordinator):
    client.force_login(coordinator)
    form = builder.blank_form()
    form.update({"code": "mood-2", "name": "Mood"})
    form["items"][0]["text"]["ru"] = "Как вы себя чувствуете?"
    form, _row = builder.apply_action(form, "add:item")
    form["items"][1].update({"type": "text", "scored": False})
    form["items"][1]["text"]["ru"] = "Что вас беспокоит?"
    form, _row = builder.apply_action(form, "add:band")
    form["bands"][0].update({"code": "all", "min": "0", "max": "3"})
    form["bands"][0]["label"]["ru"] = "Все"
    saved = client.post(reverse("surveys:instrument_build_new"), as_post(form, "save"))
    assert saved.status_code == 302
    definition = version("mood-2").definition
    scoring.validate_definition(definition)
    assert definition["total"] == ["1"] and definition["items"][1]["type"] == "text"


def test_the_builder_is_for_coordinators(client, consultant):
    client.force_login(consultant)
    assert client.get(reverse("surveys:instrument_build_new")).status_code == 403
