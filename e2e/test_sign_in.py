"""Staff sign-in: a code from an authenticator app (OPORA_STAFF_2FA, on in production): the
first sign-in sets the app up, the next ones ask for a code; too many wrong passwords pause the
sign-in. Every page is checked with axe-core."""

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


def test_too_many_wrong_passwords_pause_the_sign_in(page, operator, axe_check):
    for _ in range(5):
        page.goto("/login/")
        form = page.locator("#login-form")
        form.get_by_label("Имя пользователя").fill(operator.username)
        form.get_by_label("Пароль").fill("not-the-password")
        form.get_by_role("button", name="Вход").click()
    expect(page.locator("#locked-out")).to_contain_text("Попробуйте снова через 15 минут")
    axe_check(page, where="sign-in paused")
    page.get_by_role("link", name="Вернуться на страницу входа").click()
    expect(page.locator("#login-form")).to_be_visible()
