"""A double tap or a resent request form makes one request (issue 10 §9): the request and the
anonymous form carry a key made when they are shown; the same key again answers with the
request the first send made, two forms (two keys) make two requests."""

import re

import pytest
from django.urls import reverse

from opora.intake.models import ServiceRequest
from opora.portal.models import PortalSubmission

pytestmark = pytest.mark.django_db

NAMED = {
    "full_name": "Тестова Анна Петровна",
    "phone": "+7 927 000 11 22",
    "email": "anna@example.org",
    "reply_channel": "email",
    "requester_kind": "parent",
    "child_age": "7",
    "typical_question": "education",
    "reason": "Как выбрать инклюзивную школу?",
    "preferred_form": "video",
    "consent": "on",
}
ANONYMOUS = {
    "requester_kind": "parent",
    "child_age": "5",
    "typical_question": "education",
    "reason": "Вопрос о детском саде",
    "preferred_form": "video",
}
KEY = re.compile(r'<input type="hidden" name="form_key" value="([A-Za-z0-9_-]{20,64})">')


def form_key(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"  # a key is one visitor's, never cached
    return KEY.search(response.content.decode()).group(1)


@pytest.mark.parametrize(
    ("route", "data"), [("portal:request", NAMED), ("portal:anonymous", ANONYMOUS)]
)
def test_the_same_form_sent_twice_makes_one_request(client, district, route, data):
    url = reverse(route, args=["district"])
    key = form_key(client, url)
    first = client.post(url, {**data, "form_key": key})
    second = client.post(url, {**data, "form_key": key})
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert "/received/" in first["Location"]
    assert ServiceRequest.objects.count() == 1
    assert PortalSubmission.objects.get().form_key == key


def test_two_forms_make_two_requests(client, district):
    url = reverse("portal:request", args=["district"])
    first_key, second_key = form_key(client, url), form_key(client, url)
    assert first_key != second_key
    first = client.post(url, {**NAMED, "form_key": first_key})
    second = client.post(url, {**NAMED, "form_key": second_key})
    assert first["Location"] != second["Location"]
    assert ServiceRequest.objects.count() == 2


def test_a_form_with_errors_keeps_its_key_until_it_is_sent(client, district):
    url = reverse("portal:request", args=["district"])
    key = form_key(client, url)
    wrong = client.post(url, {**NAMED, "phone": "12-34", "form_key": key})
    assert wrong.status_code == 400 and KEY.search(wrong.content.decode()).group(1) == key
    assert client.post(url, {**NAMED, "form_key": key}).status_code == 303
    assert client.post(url, {**NAMED, "form_key": key}).status_code == 303
    assert ServiceRequest.objects.count() == 1


def test_the_same_key_with_other_details_is_not_the_first_request(client, district):
    url = reverse("portal:request", args=["district"])
    key = form_key(client, url)
    first = client.post(url, {**NAMED, "form_key": key})
    assert first.status_code == 303
    # Back, a change, and send again: never somebody's request — a message and a new form.
    changed = client.post(url, {**NAMED, "reason": "Другой вопрос", "form_key": key})
    html = changed.content.decode()
    assert changed.status_code == 400 and "уже была отправлена" in html
    assert first["Location"].split("/received/")[0] not in html
    new_key = KEY.search(html).group(1)
    assert new_key != key
    again = client.post(url, {**NAMED, "reason": "Другой вопрос", "form_key": new_key})
    assert again.status_code == 303 and again["Location"] != first["Location"]
    assert ServiceRequest.objects.count() == 2


@pytest.mark.parametrize("posted", ["", "short", "x" * 65, "bad key with spaces 0123456789"])
def test_a_missing_or_odd_key_still_registers_the_request(client, district, posted):
    url = reverse("portal:request", args=["district"])
    assert client.post(url, {**NAMED, "form_key": posted}).status_code == 303
    assert PortalSubmission.objects.get().form_key is None
