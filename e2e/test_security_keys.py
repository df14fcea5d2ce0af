"""A security key (WebAuthn) beside the app's code, on a 360-px phone with real taps: Chromium's
virtual authenticator (DevTools' WebAuthn domain) stands in for the key. A member of staff signs in
with the app's code, adds a key on the account page, signs out, signs in with the password and the
key (no code), and removes the key with the password (the session signed in with it then asks
for the app's code). Every page is checked with axe-core."""

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from opora.accounts.models import WebAuthnCredential
from opora.core.models import AuditEvent

from .conftest import PASSWORD, e2e_db

pytestmark = e2e_db

PHONE = {"viewport": {"width": 360, "height": 780}, "has_touch": True, "is_mobile": True}


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="ru-RU", **PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _virtual_key(page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def _password_step(page, username: str) -> None:
    page.goto("/login/")
    form = page.locator("#login-form")
    form.get_by_label("Имя пользователя").fill(username)
    form.get_by_label("Пароль").fill(PASSWORD)
    form.get_by_role("button", name="Вход").tap()
    expect(page.get_by_role("heading", name="Код из приложения")).to_be_visible()


def test_a_key_is_added_and_signs_in_in_place_of_the_code(
    phone, operator, settings, live_server, axe_check
):
    settings.OPORA_STAFF_2FA = True
    settings.OPORA_PUBLIC_URL = live_server.url  # http://localhost:<port>: the key's site
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = TOTPDevice.objects.create(user=operator, name="authenticator", confirmed=True)
    _virtual_key(phone)

    # First sign-in: the app's code (no key yet, so none offered).
    _password_step(phone, operator.username)
    expect(phone.locator("#security-key-button")).to_have_count(0)
    phone.get_by_label("Код из приложения").fill(f"{totp(device.bin_key):06d}")
    phone.get_by_role("button", name="Подтвердить").tap()
    expect(phone.get_by_role("heading", name="Код из приложения")).to_have_count(0)

    # The account page: add a key.
    phone.goto("/account/")
    expect(phone.locator("#no-security-keys")).to_be_visible()
    axe_check(phone, where="account page, no key")
    _fits(phone)
    phone.locator("#security-key-add").tap()  # no name: said so, nothing asked of the key
    expect(phone.locator("#security-key-message")).not_to_be_empty()
    phone.locator("#security-key-name").fill("Ключ телефона")
    phone.locator("#security-key-add").tap()
    expect(phone.locator("#security-keys")).to_contain_text("Ключ телефона")
    axe_check(phone, where="account page with a key")
    _fits(phone)
    assert WebAuthnCredential.objects.filter(user=operator).count() == 1

    # Sign out; sign in with the password and the key.
    phone.locator("#logout-button").tap()
    expect(phone.locator("#logout-button")).to_have_count(0)
    _password_step(phone, operator.username)
    expect(phone.locator("#security-key-button")).to_be_visible()
    axe_check(phone, where="code page with the key button")
    _fits(phone)
    phone.locator("#security-key-button").tap()
    expect(phone.get_by_role("heading", name="Код из приложения")).to_have_count(0)
    phone.goto("/operator/queue/")
    expect(phone).to_have_url(re.compile(r"/operator/queue/$"))
    key = WebAuthnCredential.objects.get(user=operator)
    assert key.last_used_at is not None and key.sign_count >= 1
    assert AuditEvent.objects.filter(event_type="auth.webauthn_used").count() == 1

    # Remove it, with the password.
    phone.goto("/account/")
    phone.locator(".security-key__remove").tap()
    expect(phone.locator("#security-key-remove-form")).to_be_visible()
    axe_check(phone, where="remove a key")
    _fits(phone)
    phone.locator("#id_password").fill(PASSWORD)
    phone.locator("#security-key-remove").tap()
    # This session was signed in with that key: the app's code is asked again.
    expect(phone.get_by_role("heading", name="Код из приложения")).to_be_visible()
    expect(phone.locator("#security-key-button")).to_have_count(0)
    phone.get_by_label("Код из приложения").fill(f"{totp(device.bin_key, t0=-30):06d}")
    phone.get_by_role("button", name="Подтвердить").tap()
    expect(phone.locator("#no-security-keys")).to_be_visible()
    assert not WebAuthnCredential.objects.filter(user=operator).exists()
