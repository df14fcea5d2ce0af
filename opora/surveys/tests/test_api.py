"""`POST /api/v1/instruments/{code}/score`: behind the bearer token, stores nothing, 422 names
the item."""

import pytest
from django.test import Client

from opora.accounts.services import api_token_create
from opora.surveys.models import Response, Result

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(consultant) -> Client:
    _, raw = api_token_create(user=consultant)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")


def test_without_a_token_it_is_401():
    response = Client().post(
        "/api/v1/instruments/gad-7/score", {"answers": {}}, content_type="application/json"
    )
    assert response.status_code == 401


def _score(client, code, answers):
    return client.post(
        f"/api/v1/instruments/{code}/score", {"answers": answers}, content_type="application/json"
    )


def test_phq9_score_with_the_item_9_alert(client):
    answers = {str(n): 1 for n in range(1, 10)}
    response = _score(client, "phq-9", answers)
    assert response.status_code == 200
    assert response.json() == {"total": 9, "band": "mild", "risk": True, "subscales": {}}
    assert not Response.objects.exists() and not Result.objects.exists()


@pytest.mark.parametrize(
    ("code", "count", "value", "total", "band"),
    [
        ("gad-7", 7, 3, 21, "severe"),
        ("pss-10", 10, 4, 24, "moderate"),
        ("parental-stress", 18, 3, 54, "scored"),
    ],
)
def test_each_shipped_code(client, code, count, value, total, band):
    response = _score(client, code, {str(n): value for n in range(1, count + 1)})
    assert response.status_code == 200
    assert (response.json()["total"], response.json()["band"]) == (total, band)


def test_a_missing_answer_is_a_422_naming_the_item(client):
    answers = {str(n): 0 for n in range(1, 8) if n != 5}
    response = _score(client, "gad-7", answers)
    assert response.status_code == 422
    body = response.json()
    assert body["errors"] == [{"field": "answers.5", "message": body["detail"]}]
    assert "5" in body["detail"]


def test_an_out_of_range_answer_is_a_422_naming_the_item(client):
    answers = {str(n): 0 for n in range(1, 11)}
    answers["4"] = 5
    response = _score(client, "pss-10", answers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "answers.4"


def test_a_non_integer_answer_is_a_422(client):
    response = _score(client, "gad-7", {"1": "often"})
    assert response.status_code == 422
    assert "answers.1" in response.json()["detail"]


def test_an_unknown_instrument_is_a_404(client):
    response = _score(client, "nope", {"1": 0})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
