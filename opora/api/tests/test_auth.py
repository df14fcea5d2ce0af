"""Bearer-token authentication and the OpenAPI document."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from opora.accounts.models import ApiToken, Role
from opora.accounts.services import api_token_create, api_token_revoke
from opora.demo.factories import make_user

NEAREST = "/api/v1/slots/nearest?service=kz-1411"


@pytest.fixture
def client() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def get(client: Client, url: str, raw: str | None):
    if raw is None:
        return client.get(url)
    return client.get(url, HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.mark.django_db
def test_missing_token_is_401_with_a_hint(client, service):
    response = client.get(NEAREST)
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_unknown_token_is_401(client, service, operator):
    api_token_create(user=operator)
    assert get(client, NEAREST, "opora_not-a-real-token").status_code == 401
    assert get(client, NEAREST, "").status_code == 401


@pytest.mark.django_db
def test_other_scheme_is_401(client, service, operator):
    _, raw = api_token_create(user=operator)
    response = client.get(NEAREST, HTTP_AUTHORIZATION=f"Token {raw}")
    assert response.status_code == 401


@pytest.mark.django_db
def test_revoked_token_is_401(client, service, operator):
    token, raw = api_token_create(user=operator)
    assert get(client, NEAREST, raw).status_code != 401
    api_token_revoke(token=token)
    assert get(client, NEAREST, raw).status_code == 401


@pytest.mark.django_db
def test_token_of_inactive_user_is_401(client, service, operator):
    _, raw = api_token_create(user=operator)
    operator.is_active = False
    operator.save()
    assert get(client, NEAREST, raw).status_code == 401


@pytest.mark.django_db
def test_last_used_at_written_at_most_once_a_minute(client, service, operator):
    token, raw = api_token_create(user=operator)
    assert token.last_used_at is None

    get(client, NEAREST, raw)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and timezone.now() - first < dt.timedelta(seconds=30)

    get(client, NEAREST, raw)
    token.refresh_from_db()
    assert token.last_used_at == first

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - dt.timedelta(minutes=2))
    get(client, NEAREST, raw)
    token.refresh_from_db()
    assert token.last_used_at > first - dt.timedelta(seconds=1)


@pytest.mark.django_db
def test_role_less_user_is_403(client, service):
    nobody = make_user("", service=service)
    _, raw = api_token_create(user=nobody)
    response = get(client, NEAREST, raw)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Your role does not allow this operation.",
        "code": "forbidden",
    }


@pytest.mark.django_db
def test_staff_of_another_service_is_403(client, service):
    outsider = make_user(Role.OPERATOR)  # no services
    _, raw = api_token_create(user=outsider)
    response = get(client, NEAREST, raw)
    assert response.status_code == 403
    assert "kz-1411" in response.json()["detail"]


def test_openapi_document_lists_every_path(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["info"]["title"] == "Opora API"
    assert doc["info"]["version"] == "1"
    assert set(doc["paths"]) >= {
        "/api/v1/eligibility/check",
        "/api/v1/slots",
        "/api/v1/slots/nearest",
        "/api/v1/requests",
        "/api/v1/requests/{request_id}",
        "/api/v1/bookings",
        "/api/v1/bookings/{booking_id}",
        "/api/v1/bookings/{booking_id}/reschedule",
        "/api/v1/bookings/{booking_id}/cancel",
    }
    assert doc["components"]["securitySchemes"]["BearerAuth"]["scheme"] == "bearer"
    assert doc["paths"]["/api/v1/bookings"]["post"]["operationId"] == "booking_create"
