"""The input boundary (opora.core.inputs, InputBoundaryMiddleware): hostile input from outside gets a
400 that names the problem, in the visitor's language — never a 500 from the database or from date
arithmetic."""

import datetime as dt

import pytest
from django.urls import reverse

from opora.accounts.models import Role
from opora.accounts.services import api_token_create
from opora.demo.factories import make_district_service, make_user
from opora.scheduling.tests.factories import future_working_day, make_request, make_slot

pytestmark = pytest.mark.django_db

NUL_PATH_MESSAGE = "Адрес содержит управляющий символ"
OUT_OF_RANGE = ("9999-12-31", "0001-01-01")
DATE_MESSAGE = "вне допустимого диапазона"


def _bad_request(response, message: str) -> str:
    html = response.content.decode()
    assert response.status_code == 400, html[:2000]
    assert message in html
    return html


# --- control characters ----------------------------------------------------------------------------


def test_nul_in_a_private_link_is_a_400_page_not_a_500(client, service):
    html = _bad_request(client.get("/s/r/abc%00/"), NUL_PATH_MESSAGE)
    assert 'id="go-home"' in html


def test_nul_in_a_room_link_is_a_400(client, service):
    _bad_request(client.get("/c/abc%00/"), NUL_PATH_MESSAGE)
    _bad_request(client.get("/c/abc%00/check/"), NUL_PATH_MESSAGE)


def test_nul_in_a_webhook_url_is_a_400(client, service):
    _bad_request(
        client.post("/messengers/telegram%00/bot/webhook/", "{}", content_type="application/json"),
        NUL_PATH_MESSAGE,
    )
    # …and in its query string: the field is named.
    response = client.post(
        "/messengers/telegram/bot/webhook/?x=a%00b", "{}", content_type="application/json"
    )
    _bad_request(response, "«x»")


def test_the_page_speaks_the_visitors_language(client, service):
    response = client.get("/s/r/abc%00/", HTTP_ACCEPT_LANGUAGE="kk")
    assert response.status_code == 400
    assert "басқару таңбасы" in response.content.decode()


def test_nul_in_the_operators_client_search_is_a_400(client, operator):
    client.force_login(operator)
    url = reverse("operator_client_search")
    html = _bad_request(client.post(url, {"q": "87010\x00"}), "Поле «q» содержит управляющий")
    assert "\x00" not in html
    # Searched as you type (htmx): the message travels in a header for the live region.
    response = client.post(url, {"q": "87010\x00"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "%C2%AB" in response["X-Opora-Message"]  # «q», URL-encoded for a header
    # A line break in a text field is fine; a tab too.
    assert client.post(url, {"q": "Иванова\tАнна"}).status_code == 200


def test_a_control_character_in_a_query_string_is_refused_before_the_database(client, service):
    _bad_request(client.get("/s/?q=%01"), "«q»")
    _bad_request(client.get("/s/?q=" + "a" * 1001), "слишком длинное")


def test_the_api_answers_its_json_error_for_a_nul(client, service):
    response = client.get("/api/v1/slots?service=kz%00&date=2026-01-01")
    assert response.status_code == 400
    assert response.json()["code"] == "control_character"


def test_a_bad_session_cookie_is_dropped_not_a_500(client, service):
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    assert client.get(reverse("login")).status_code == 200


def test_an_id_beyond_bigint_is_a_404_not_a_500(client, operator):
    client.force_login(operator)
    assert client.get("/operator/requests/99999999999999999999/").status_code == 404


# --- sign-in ---------------------------------------------------------------------------------------


def test_a_very_long_username_is_a_wrong_sign_in_not_a_500(client, operator):
    response = client.post(reverse("login"), {"username": "x" * 300, "password": "whatever"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="login-error"' in html  # the sign-in form again: "Wrong username or password"
    assert not response.wsgi_request.user.is_authenticated


def test_a_username_with_a_nul_is_a_400(client, operator):
    _bad_request(
        client.post(reverse("login"), {"username": "a\x00b", "password": "x"}), "«username»"
    )


# --- dates out of range on the six routes ----------------------------------------------------------


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_self_booking_date_out_of_range(client, value):
    from opora.portal.tests.test_portal import BOOKER

    district = make_district_service()
    response = client.post(reverse("portal:book", args=[district.code]), BOOKER)
    assert response.status_code == 303
    response = client.get(reverse("portal:book_time", args=[district.code]), {"from": value})
    _bad_request(response, DATE_MESSAGE)


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_api_slots_date_out_of_range(client, service, operator, value):
    _, secret = api_token_create(user=operator)
    response = client.get(
        "/api/v1/slots",
        {"service": service.code, "date": value},
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "date_out_of_range"
    assert "1900" in response.json()["detail"]


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_journal_dates_out_of_range(client, service, consultant, value):
    client.force_login(consultant)
    url = reverse("consultations:journal")
    _bad_request(client.get(url, {"from": value}), DATE_MESSAGE)
    _bad_request(client.get(url, {"to": value}), DATE_MESSAGE)


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_handoff_date_out_of_range(client, service, coordinator, value):
    client.force_login(coordinator)
    _bad_request(client.get(reverse("coordinator_handoff"), {"date": value}), DATE_MESSAGE)


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_my_day_date_out_of_range(client, service, consultant, value):
    client.force_login(consultant)
    _bad_request(client.get(reverse("consultant_day"), {"date": value}), DATE_MESSAGE)


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_operator_booking_date_out_of_range(client, service, operator, consultant, value):
    make_slot(service, consultant, future_working_day(service), dt.time(15))
    req = make_request(service)
    client.force_login(operator)
    response = client.get(reverse("operator_book", args=[req.pk]), {"date": value})
    assert response.status_code in (200, 400), response.content.decode()[:2000]
    assert DATE_MESSAGE in response.content.decode()


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_registry_period_out_of_range(client, service, value):
    head = make_user(Role.HEAD, service=service, organisation=service.provider_organisation)
    client.force_login(head)
    response = client.get(reverse("registry_requests"), {"date_from": value})
    assert response.status_code in (200, 400)
    assert DATE_MESSAGE in response.content.decode()


def test_a_malformed_date_still_falls_back_to_the_default_day(client, service, consultant):
    client.force_login(consultant)
    assert client.get(reverse("consultant_day"), {"date": "2026-02-30"}).status_code == 200


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"])
def test_self_booking_time_out_of_range(client, value):
    from opora.portal.tests.test_portal import BOOKER

    district = make_district_service()
    client.post(reverse("portal:book", args=[district.code]), BOOKER)
    response = client.post(reverse("portal:book_time", args=[district.code]), {"time": value})
    _bad_request(response, DATE_MESSAGE)


@pytest.mark.parametrize("value", ["9999-12", "0001-01"])
def test_schedule_months_out_of_range(client, service, coordinator, consultant, value):
    client.force_login(coordinator)
    _bad_request(client.get(reverse("coordinator_schedules"), {"month": value}), DATE_MESSAGE)
    url = reverse("coordinator_schedule_edit", args=[consultant.pk, value])
    _bad_request(client.get(url), DATE_MESSAGE)
