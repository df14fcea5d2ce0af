"""Staff sign-in with a code from an authenticator app (OPORA_STAFF_2FA, on in production): the
first sign-in sets the app up, the next ones ask for a code. Both pages are checked with axe-core."""

import base64
import re

from django_otp.oath import totp
from playwright.sync_api import expect

from .conftest import e2e_db, login

pytestmark = e2e_db


def _code(secret: str, steps_ahead: int = 0) -> str:
    key = base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    return f"{totp(key, step=30, t0=-steps_ahead * 30):06d}"


def test_first_sign_in_sets_up_the_app_then_a_code_is_asked(page, operator, settings, axe_check):
    settings.OPORA_STAFF_2FA = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0

    login(page, operator.username)
    expect(page.get_by_role("heading", name="Защитите вход")).to_be_visible()
    axe_check(page, where="two-factor setup")
    secret = page.locator("#two-factor-secret").inner_text()

    page.get_by_label("Код из приложения").fill("000000")
    page.get_by_role("button", name="Подтвердить").click()
    expect(page.locator("#id_code-error")).to_contain_text("Код неверный или устарел")
    axe_check(page, where="two-factor setup, wrong code")
    page.get_by_label("Код из приложения").fill(_code(secret))
    page.get_by_role("button", name="Подтвердить").click()
    expect(page.get_by_role("heading", name="Защитите вход")).to_have_count(0)
    page.goto("/operator/queue/")
    expect(page).to_have_url(re.compile(r"/operator/queue/$"))

    page.locator("#logout-button").click()
    login(page, operator.username)
    expect(page.get_by_role("heading", name="Код из приложения")).to_be_visible()
    axe_check(page, where="two-factor code")
    page.get_by_label("Код из приложения").fill(_code(secret, 1))
    page.get_by_role("button", name="Подтвердить").click()
    expect(page.get_by_role("heading", name="Код из приложения")).to_have_count(0)
