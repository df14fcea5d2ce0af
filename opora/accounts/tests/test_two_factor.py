"""Staff two-factor sign-in (OPORA_STAFF_2FA): no staff page before a code; clients, the API and
the health check are not affected."""

import base64
import re

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from opora.accounts.models import Role
from opora.core.models import AuditEvent
from opora.demo.factories import make_service_1411, make_user

pytestmark = pytest.mark.django_db

QUEUE = "/operator/queue/"


def _code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    # The code of the current 30-second step, or of a later one (the device accepts one step of
    # drift, and never the same step twice).
    value = totp(device.bin_key, step=device.step, t0=device.t0 - steps_ahead * device.step)
    return f"{value:0{device.digits}d}"


@pytest.fixture
def operator(settings):
    settings.OPORA_STAFF_2FA = True
    # After a wrong code django-otp refuses codes for a growing pause; these tests do not wait.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    return make_user(Role.OPERATOR, service=make_service_1411())


def test_first_sign_in_sets_up_the_app_and_then_opens_the_page(client, operator):
    client.force_login(operator)
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('two_factor_setup')}?next=%2Foperator%2Fqueue%2F"

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "<svg" in page.content.decode()  # the QR code
    secret = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', page.content.decode()).group(1)
    device = TOTPDevice.objects.get(user=operator, confirmed=False)
    assert base64.b32encode(device.bin_key).decode().rstrip("=") == secret.replace(" ", "")

    wrong = client.post(reverse("two_factor_setup"), {"code": "000000", "next": QUEUE})
    assert wrong.status_code == 200
    assert "Код неверный или устарел" in wrong.content.decode()
    assert client.get(QUEUE).status_code == 302  # still locked

    done = client.post(reverse("two_factor_setup"), {"code": _code(device), "next": QUEUE})
    assert done.status_code == 302 and done["Location"] == QUEUE
    assert client.get(QUEUE).status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(event_type="auth.2fa_enabled").count() == 1


def test_a_later_sign_in_asks_for_a_code(client, operator):
    device = TOTPDevice.objects.create(user=operator, name="authenticator", confirmed=True)
    client.force_login(operator)
    response = client.get(QUEUE)
    assert response["Location"].startswith(reverse("two_factor_verify"))
    assert client.post(reverse("two_factor_verify"), {"code": "12ab56"}).status_code == 200
    ok = client.post(reverse("two_factor_verify"), {"code": _code(device), "next": QUEUE})
    assert ok.status_code == 302 and ok["Location"] == QUEUE
    assert client.get(QUEUE).status_code == 200
    # The same code is not accepted twice.
    client.logout()
    client.force_login(operator)
    again = client.post(reverse("two_factor_verify"), {"code": _code(device), "next": QUEUE})
    assert again.status_code == 200
    assert (
        client.post(
            reverse("two_factor_verify"), {"code": _code(device, 1), "next": QUEUE}
        ).status_code
        == 302
    )


def test_after_a_wrong_code_the_pause_is_named(client, operator, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    device = TOTPDevice.objects.create(user=operator, name="authenticator", confirmed=True)
    client.force_login(operator)
    client.post(reverse("two_factor_verify"), {"code": "000000"})
    refused = client.post(reverse("two_factor_verify"), {"code": _code(device)})
    assert refused.status_code == 200
    assert "Слишком много неверных кодов" in refused.content.decode()


def test_an_outside_next_is_not_followed(client, operator):
    device = TOTPDevice.objects.create(user=operator, name="authenticator", confirmed=True)
    client.force_login(operator)
    response = client.post(
        reverse("two_factor_verify"), {"code": _code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


def test_clients_api_health_and_sign_out_are_not_affected(client, operator, settings):
    assert client.get("/healthz").status_code == 200
    assert client.get("/s/").status_code in (200, 302, 404)
    client.force_login(operator)
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.post(reverse("logout")).status_code == 302


def test_off_by_default_outside_production(client, settings):
    settings.OPORA_STAFF_2FA = False
    client.force_login(make_user(Role.OPERATOR, service=make_service_1411()))
    assert client.get(QUEUE).status_code == 200


def _verified_with_app(client, user) -> TOTPDevice:
    client.force_login(user)
    client.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=user)
    assert client.post(reverse("two_factor_setup"), {"code": _code(device)}).status_code == 302
    return device


def test_a_recovery_code_signs_in_once_in_place_of_the_app(client, operator, settings):
    from django.test import Client

    settings.OTP_STATIC_THROTTLE_FACTOR = 0  # as for the app's codes: no pause to wait out

    _verified_with_app(client, operator)
    page = client.post(reverse("recovery_codes"))
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    codes = re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4})</code>", page.content.decode())
    assert len(codes) == 10
    assert AuditEvent.objects.filter(event_type="auth.recovery_codes_created").count() == 1

    lost_phone = Client()
    lost_phone.force_login(operator)
    used = lost_phone.post(reverse("two_factor_verify"), {"code": codes[0], "next": QUEUE})
    assert used.status_code == 302 and used["Location"] == QUEUE
    assert lost_phone.get(QUEUE).status_code == 200
    event = AuditEvent.objects.filter(event_type="auth.2fa_verified").latest("pk")
    assert event.extra == {"recovery_code": True}
    assert "9 " in lost_phone.get(reverse("account")).content.decode()  # codes left

    again = Client()
    again.force_login(operator)
    reused = again.post(reverse("two_factor_verify"), {"code": codes[0], "next": QUEUE})
    wrong = again.post(reverse("two_factor_verify"), {"code": "abcd-efgh", "next": QUEUE})
    assert reused.status_code == wrong.status_code == 200
    assert "Код неверный или устарел" in reused.content.decode()
    assert "Код неверный или устарел" in wrong.content.decode()
    # New codes replace the old ones.
    client.post(reverse("recovery_codes"))
    third = Client()
    third.force_login(operator)
    assert third.post(reverse("two_factor_verify"), {"code": codes[1]}).status_code == 200


def test_no_recovery_codes_without_the_app(client, operator, settings):
    settings.OPORA_STAFF_2FA = False
    client.force_login(operator)
    assert client.post(reverse("recovery_codes")).status_code == 302
    assert 'id="recovery-codes-form"' not in client.get(reverse("account")).content.decode()
