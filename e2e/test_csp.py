"""The Content-Security-Policy as a browser applies it: the listener every browser test carries
(e2e/conftest.py `CSP_LISTENER`) catches what the policy refuses, and our own pages break none."""

from playwright.sync_api import expect

from . import conftest
from .conftest import e2e_db, login

pytestmark = e2e_db


def test_the_listener_catches_an_inline_style_and_an_inline_script(page, live_server):
    page.goto("/s/")
    expect(page.locator("h1")).to_be_visible()
    page.evaluate(
        """() => {
        document.body.setAttribute("style", "color: red");
        const s = document.createElement("script");
        s.textContent = "window.__ran = true";
        document.body.append(s);
    }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__ran === undefined")  # the inline script did not run
    caught = list(conftest._csp_violations)
    conftest._csp_violations.clear()  # expected here: this test must not fail for them
    assert any("style-src" in v for v in caught), caught
    assert any("script-src" in v for v in caught), caught


def test_the_camera_is_refused_outside_the_room(page, live_server):
    page.goto("/s/")
    state = page.evaluate(
        """async () => {
        try { await navigator.mediaDevices.getUserMedia({video: true}); return "allowed"; }
        catch (e) { return e.name; }
    }"""
    )
    assert state == "NotAllowedError"


def test_sign_out_everywhere_from_the_account_page(new_page, operator, axe_check):
    desk, phone = new_page(), new_page()
    login(desk, operator.username)
    login(phone, operator.username)
    desk.locator("#account-link").click()
    expect(desk.get_by_role("heading", name="Моя учётная запись")).to_be_visible()
    axe_check(desk, where="account page")
    desk.get_by_role("button", name="Выйти на всех устройствах").click()
    expect(desk.locator("#login-form")).to_be_visible()
    expect(desk.locator(".messages")).to_contain_text("Вы вышли из системы на всех устройствах")
    phone.goto("/operator/")
    expect(phone.locator("#login-form")).to_be_visible()
