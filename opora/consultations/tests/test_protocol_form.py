"""The protocol form: no «---------» choices, and a first draft that starts with the client's topic."""

from typing import cast

import pytest
from django import forms
from django.utils import translation

from opora.consultations import services
from opora.consultations.forms import ProtocolForm
from opora.consultations.models import Protocol, Topic
from opora.consultations.tests.factories import make_live_consultation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


def _consultation(service, consultant, **request_fields):
    c = make_live_consultation(service, consultant)
    request = c.booking.request
    for name, value in request_fields.items():
        setattr(request, name, value)
    request.save()
    return c


def test_choices_say_what_to_do_instead_of_dashes():
    html = ProtocolForm().as_div()
    assert "---------" not in html
    assert "Выберите тематику…" in html
    form = ProtocolForm()
    kind, topic = form.fields["kind"], form.fields["topic"]
    assert isinstance(kind, forms.ChoiceField) and isinstance(topic, forms.ChoiceField)
    # The getter gives the normalised list (the stubs type it as the setter's many forms).
    kind_choices = cast("list[tuple[str, str]]", kind.choices)
    topic_choices = cast("list[tuple[str, str]]", topic.choices)
    assert [value for value, _label in kind_choices] == list(Protocol.Kind.values)
    assert topic_choices[0] == ("", "Выберите тематику…")
    # An empty topic is still refused: the blank choice is a prompt, not an answer.
    bound = ProtocolForm({"reason": "x", "solution": "y", "kind": "primary", "topic": ""})
    assert not bound.is_valid() and "topic" in bound.errors


def test_first_draft_starts_with_the_typical_question_and_the_childs_age(service, consultant):
    c = _consultation(service, consultant, reason="", typical_question="education", child_age=9)
    form = ProtocolForm(initial={"reason": ""}, consultation=c)
    assert form.initial["reason"] == "Образование: детский сад, школа, инклюзивное обучение"
    assert form.initial["child_age"] == 9
    assert "Образование: детский сад, школа" in form.as_div()


def test_first_draft_keeps_the_clients_words_beside_the_question(service, consultant):
    c = _consultation(
        service, consultant, reason="Не спит по ночам", typical_question="development"
    )
    form = ProtocolForm(consultation=c)
    assert form.initial["reason"] == "Развитие и поведение ребёнка\nНе спит по ночам"
    # What the view already put in the draft is kept.
    form = ProtocolForm(initial={"reason": "Не спит по ночам"}, consultation=c)
    assert form.initial["reason"] == "Не спит по ночам"


def test_a_saved_protocol_and_a_posted_form_are_not_overwritten(service, consultant):
    c = _consultation(service, consultant, reason="", typical_question="education", child_age=9)
    services.consultation_admit(consultation_id=c.pk, actor=consultant)
    c = services.consultation_end(consultation_id=c.pk, actor=consultant)
    protocol = services.protocol_save(
        actor=consultant,
        consultation=c,
        child_name="",
        child_age=None,
        reason="Своими словами",
        topic=Topic.LEARNING,
        solution="Рекомендации",
        materials="",
        kind=Protocol.Kind.PRIMARY,
        next_consultation="",
        note="",
    )
    form = ProtocolForm(instance=protocol, consultation=c)
    assert form["reason"].value() == "Своими словами" and form["child_age"].value() is None
    posted = ProtocolForm({"reason": ""}, consultation=c)
    assert posted["reason"].value() == ""
