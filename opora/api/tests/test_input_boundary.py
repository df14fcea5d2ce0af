"""The faults the hostile probe found in the API (issue 10): each answer now matches the document.

A 422 always carries its `errors` array naming the field; `desired_at` refuses the year 460 and an
offset with seconds; a NUL or an over-long value in a string field is a 422 naming the field.
"""

import pytest
from django.test import Client

from opora.api.api import api as ninja_api
from opora.api.tests import test_api
from opora.api.tests.test_api import MOTHER_NAME, api_client, post
from opora.intake.models import ServiceRequest

mother_iin = test_api.mother_iin  # the fixture: an active ЦБД recipient


@pytest.fixture
def api(operator) -> Client:
    return api_client(operator)


def assert_422_naming(response, field: str) -> dict:
    assert response.status_code == 422, response.content
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}
    assert isinstance(body["detail"], str) and body["detail"]
    assert [e["field"] for e in body["errors"]] == [field], body
    assert all(isinstance(e["message"], str) and e["message"] for e in body["errors"])
    return body


def request_body(**overrides) -> dict:
    return {
        "service": "kz-1411",
        "full_name": MOTHER_NAME,
        "phone": "+7 701 234 56 78",
        **overrides,
    }


def test_malformed_iin_on_eligibility_is_422_with_errors(api, service):
    body = assert_422_naming(
        post(api, "/api/v1/eligibility/check", {"iin": "ИИН", "full_name": MOTHER_NAME}), "iin"
    )
    assert body["code"] == "iin_digits"


def test_malformed_iin_on_requests_is_422_with_errors(api, service):
    response = post(api, "/api/v1/requests", request_body(iin="12345"))
    assert_422_naming(response, "iin")
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize(
    "value",
    ["0460-03-14T15:00:00+05:00", "1899-12-31T23:00:00+05:00", "2101-01-01T10:00:00+05:00"],
)
def test_desired_at_outside_1900_2100_is_refused(api, service, value):
    body = assert_422_naming(
        post(api, "/api/v1/requests", request_body(desired_at=value)), "desired_at"
    )
    assert "1900" in body["errors"][0]["message"] and "2100" in body["errors"][0]["message"]
    assert not ServiceRequest.objects.exists()


def test_desired_at_with_seconds_in_the_offset_is_refused(api, service):
    response = post(
        api, "/api/v1/requests", request_body(desired_at="2030-03-14T15:00:00+02:30:17")
    )
    body = assert_422_naming(response, "desired_at")
    assert "+05:00" in body["errors"][0]["message"]
    assert not ServiceRequest.objects.exists()


def test_desired_at_inside_the_range_is_accepted(api, service, mother_iin):
    response = post(
        api,
        "/api/v1/requests",
        request_body(iin=mother_iin, desired_at="2030-03-14T15:00:00+02:30"),
    )
    assert response.status_code == 201, response.content
    assert response.json()["desired_at"] == "2030-03-14T17:30:00+05:00"


def test_russian_messages_for_the_new_refusals(api, service):
    response = api.post(
        "/api/v1/requests",
        request_body(full_name="Иванова\x00Мария", desired_at="0460-01-01T00:00:00+05:00"),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    assert response.status_code == 422
    messages = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert set(messages) == {"full_name", "desired_at"}
    assert "управляющий символ" in messages["full_name"]
    assert "1900" in messages["desired_at"] and "между" in messages["desired_at"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/eligibility/check", {"iin": "8603\x0014", "full_name": "A"}, "iin"),
        ("/api/v1/eligibility/check", {"iin": "860314", "full_name": "Ivanova\x00"}, "full_name"),
        ("/api/v1/requests", request_body(phone="+7\x00701"), "phone"),
        ("/api/v1/requests", request_body(reason="Помогите\x00"), "reason"),
        ("/api/v1/requests", request_body(service="kz-1411\x00"), "service"),
        ("/api/v1/requests", request_body(region="KZ\x1b75"), "region"),
    ],
)
def test_control_characters_in_a_string_field_are_422_naming_it(api, service, path, body, field):
    assert_422_naming(post(api, path, body), field)
    assert not ServiceRequest.objects.exists()


def test_reason_may_span_lines(api, service, mother_iin):
    response = post(
        api, "/api/v1/requests", request_body(iin=mother_iin, reason="Первая строка\r\n\tвторая")
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (request_body(full_name="Я" * 401), "full_name"),
        (request_body(iin="1" * 65), "iin"),
        (request_body(service="k" * 51), "service"),
        (request_body(reason="x" * 10001), "reason"),
    ],
)
def test_over_long_values_are_422_naming_the_field(api, service, body, field):
    body = assert_422_naming(post(api, "/api/v1/requests", body), field)
    assert "at most" in body["errors"][0]["message"]


def test_every_operation_declares_every_error_status_with_its_body():
    document = ninja_api.get_openapi_schema()
    refs = {
        "400": "#/components/schemas/InvalidOut",
        "401": "#/components/schemas/ErrorOut",
        "403": "#/components/schemas/ErrorOut",
        "404": "#/components/schemas/ErrorOut",
        "422": "#/components/schemas/ValidationErrorOut",
    }
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            responses = operation["responses"]
            for status, ref in refs.items():
                schema = responses[int(status)]["content"]["application/json"]["schema"]
                assert schema == {"$ref": ref}, (method, path, status)
            if method == "post" and path != "/api/v1/eligibility/check":
                assert 409 in responses, (method, path)
    assert document["components"]["schemas"]["ValidationErrorOut"]["required"] == [
        "detail",
        "code",
        "errors",
    ]


def test_over_long_service_code_in_the_query_is_422_naming_it(api, service):
    response = api.get("/api/v1/slots/nearest", {"service": "k" * 51})
    assert_422_naming(response, "service")
    response = api.get("/api/v1/slots", {"service": "k" * 51, "date": "2030-03-14"})
    assert_422_naming(response, "service")


def test_desired_at_before_standard_time_goes_out_with_a_whole_minute_offset(
    api, service, mother_iin
):
    """Almaty kept local mean time (+05:07:48) until 1924; RFC 3339 cannot write that offset, so
    such a value is given in UTC (the same instant)."""
    response = post(
        api,
        "/api/v1/requests",
        request_body(iin=mother_iin, desired_at="1910-03-14T15:00:00+05:00"),
    )
    assert response.status_code == 201, response.content
    assert response.json()["desired_at"] in {"1910-03-14T10:00:00Z", "1910-03-14T10:00:00+00:00"}
