"""Security keys (WebAuthn) beside the app's code: added on the account page, used at sign-in in
place of the code, removed with the password. The browser's answers come from a software key
(`soft_key.SoftKey`: ES256 from `cryptography`), checked by the real py_webauthn."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from opora.accounts import security_keys
from opora.accounts.models import Role, WebAuthnCredential
from opora.accounts.tests.soft_key import SoftKey
from opora.core.models import AuditEvent
from opora.demo.factories import make_service_1411, make_user

pytestmark = pytest.mark.django_db

ORIGIN = "https://opora.example.kz"
QUEUE = "/operator/queue/"
PASSWORD = "pass-Word-123"  # make_user's default


def _ru(text: str) -> str:
    """The Russian of a new message (the catalogue is filled after merging: English until then)."""
    with translation.override("ru"):
        return translation.gettext(text)


def _code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    value = totp(device.bin_key, step=device.step, t0=device.t0 - steps_ahead * device.step)
    return f"{value:0{device.digits}d}"


def _post(client: Client, name: str, body: dict[str, Any]) -> Any:
    return client.post(reverse(name), data=json.dumps(body), content_type="application/json")


@pytest.fixture
def operator(settings):
    settings.OPORA_STAFF_2FA = True
    settings.OPORA_PUBLIC_URL = ORIGIN
    settings.OPORA_WEBAUTHN_RP_ID = ""
    # The growing pause after a failure is tested on its own; the others do not wait it out.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_WEBAUTHN_THROTTLE_FACTOR = 0
    user = make_user(Role.OPERATOR, service=make_service_1411())
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return user


def _signed_in_with_app(operator, steps_ahead: int = 0) -> Client:
    client = Client()
    client.force_login(operator)
    device = TOTPDevice.objects.get(user=operator)
    done = client.post(reverse("two_factor_verify"), {"code": _code(device, steps_ahead)})
    assert done.status_code == 302
    return client


def _add_key(client: Client, name: str = "Синий ключ") -> SoftKey:
    key = SoftKey("opora.example.kz", ORIGIN)
    options = _post(client, "security_key_register_options", {"name": name}).json()
    assert options["ok"]
    assert options["options"]["rp"]["id"] == "opora.example.kz"
    added = _post(client, "security_key_register", {"credential": key.create(options["options"])})
    assert added.status_code == 200 and added.json() == {"ok": True, "next": reverse("account")}
    return key


def _key_sign_in(operator, key: SoftKey, **answer: Any) -> Any:
    client = Client()
    client.force_login(operator)
    options = _post(client, "security_key_sign_in_options", {}).json()["options"]
    response = _post(
        client,
        "security_key_sign_in",
        {"credential": key.get(options, **answer), "next": QUEUE},
    )
    return client, response


def test_a_key_is_added_listed_and_signs_in_in_place_of_the_code(operator):
    client = _signed_in_with_app(operator)
    key = _add_key(client)
    stored = WebAuthnCredential.objects.get(user=operator)
    assert stored.name == "Синий ключ" and stored.sign_count == 0
    assert stored.transports == ["usb"]  # what the browser listed, unknown words dropped
    page = client.get(reverse("account")).content.decode()
    assert "Синий ключ" in page and 'id="security-key-add-form"' in page

    # Signed out; the next sign-in offers the key beside the code.
    other = Client()
    other.force_login(operator)
    assert other.get(QUEUE)["Location"].startswith(reverse("two_factor_verify"))
    assert 'id="security-key-button"' in other.get(reverse("two_factor_verify")).content.decode()

    signed, response = _key_sign_in(operator, key)
    assert response.status_code == 200 and response.json() == {"ok": True, "next": QUEUE}
    assert signed.get(QUEUE).status_code == 200
    stored.refresh_from_db()
    assert stored.sign_count == 1 and stored.last_used_at is not None

    kinds = list(
        AuditEvent.objects.filter(event_type__startswith="auth.webauthn").values_list(
            "event_type", "extra"
        )
    )
    assert kinds == [
        ("auth.webauthn_registered", {"key": stored.pk, "transports": ["usb"]}),
        ("auth.webauthn_used", {"key": stored.pk}),
    ]


def test_the_code_page_offers_no_key_to_a_member_without_one(operator):
    client = Client()
    client.force_login(operator)
    assert (
        'id="security-key-button"' not in client.get(reverse("two_factor_verify")).content.decode()
    )
    refused = _post(client, "security_key_sign_in_options", {})
    assert refused.status_code == 400 and not refused.json()["ok"]


def test_a_counter_that_did_not_grow_is_refused_as_a_wrong_code(operator):
    key = _add_key(_signed_in_with_app(operator))
    _key_sign_in(operator, key)
    _key_sign_in(operator, key)  # the stored counter is 2
    client, response = _key_sign_in(operator, key, counter=2)  # a copy of the key, or a replay
    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "message": "Код неверный или устарел. Введите текущий код.",
    }
    assert client.get(QUEUE).status_code == 302  # still not signed in
    assert WebAuthnCredential.objects.get(user=operator).sign_count == 2
    failed = AuditEvent.objects.filter(event_type="auth.webauthn_failed").latest("pk")
    assert failed.extra == {"reason": "sign_count"}
    # Counted as a wrong code on the app too.
    assert TOTPDevice.objects.get(user=operator).throttling_failure_count == 1


def test_a_challenge_is_used_once(operator):
    key = _add_key(_signed_in_with_app(operator))
    client = Client()
    client.force_login(operator)
    options = _post(client, "security_key_sign_in_options", {}).json()["options"]
    answer = key.get(options)
    assert _post(client, "security_key_sign_in", {"credential": answer}).status_code == 200
    client.logout()
    client.force_login(operator)
    again = _post(client, "security_key_sign_in", {"credential": answer})
    assert again.status_code == 400
    failed = AuditEvent.objects.filter(event_type="auth.webauthn_failed").latest("pk")
    assert failed.extra == {"reason": "challenge"}


def test_an_expired_challenge_is_refused(operator):
    key = _add_key(_signed_in_with_app(operator))
    client = Client()
    client.force_login(operator)
    options = _post(client, "security_key_sign_in_options", {}).json()["options"]
    session = client.session
    session[security_keys.CHALLENGE_KEY]["expires"] = time.time() - 1
    session.save()
    response = _post(client, "security_key_sign_in", {"credential": key.get(options)})
    assert response.status_code == 400
    assert client.get(QUEUE).status_code == 302


def test_another_origin_is_refused(operator):
    key = _add_key(_signed_in_with_app(operator))
    client, response = _key_sign_in(operator, key, origin="https://opora.example.kz.evil.test")
    assert response.status_code == 400
    assert client.get(QUEUE).status_code == 302
    failed = AuditEvent.objects.filter(event_type="auth.webauthn_failed").latest("pk")
    assert failed.extra == {"reason": "assertion"}


def test_someone_elses_key_does_not_sign_in(operator):
    colleague = make_user(Role.OPERATOR, service=operator.services.first())
    TOTPDevice.objects.create(user=colleague, name="authenticator", confirmed=True)
    theirs = _add_key(_signed_in_with_app(colleague))
    _add_key(_signed_in_with_app(operator), name="Мой")
    _client, response = _key_sign_in(operator, theirs)
    assert response.status_code == 400
    failed = AuditEvent.objects.filter(event_type="auth.webauthn_failed").latest("pk")
    assert failed.extra == {"reason": "unknown_key"}


def test_after_a_failed_key_the_pause_is_named_even_for_the_right_key(operator, settings):
    key = _add_key(_signed_in_with_app(operator))
    settings.OTP_WEBAUTHN_THROTTLE_FACTOR = 60
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    _key_sign_in(operator, key, origin="https://elsewhere.test")
    client, response = _key_sign_in(operator, key)
    assert response.status_code == 400
    assert "Слишком много неверных кодов" in response.json()["message"]
    assert client.get(QUEUE).status_code == 302
    # The app's code waits too: a failed key counts as a wrong code.
    device = TOTPDevice.objects.get(user=operator)
    code = client.post(reverse("two_factor_verify"), {"code": _code(device, 1)})
    assert "Слишком много неверных кодов" in code.content.decode()


def test_registration_answers_that_do_not_hold_are_refused(operator):
    client = _signed_in_with_app(operator)
    key = SoftKey("opora.example.kz", ORIGIN)
    # Without options first: no challenge.
    first = _post(client, "security_key_register", {"credential": key.create({"challenge": "x"})})
    assert first.status_code == 400
    # Another site's origin.
    options = _post(client, "security_key_register_options", {"name": "Ключ"}).json()["options"]
    wrong = key.create(options, origin="https://evil.test")
    assert _post(client, "security_key_register", {"credential": wrong}).status_code == 400
    # Garbage.
    _post(client, "security_key_register_options", {"name": "Ключ"})
    junk = _post(client, "security_key_register", {"credential": {"id": 1}})
    assert junk.status_code == 400 and junk.json()["message"]
    # The same key twice (the options name it to exclude; a key that ignores them is refused).
    added = _add_key(client)
    options = _post(client, "security_key_register_options", {"name": "Снова"}).json()["options"]
    assert [c["id"] for c in options["excludeCredentials"]] == [
        WebAuthnCredential.objects.get(user=operator).credential_id
    ]
    twice = _post(client, "security_key_register", {"credential": added.create(options)})
    assert twice.status_code == 400
    assert twice.json()["message"] == _ru("This security key is already added.")
    assert WebAuthnCredential.objects.filter(user=operator).count() == 1
    reasons = list(
        AuditEvent.objects.filter(event_type="auth.webauthn_failed").values_list("extra", flat=True)
    )
    assert reasons == [
        {"reason": "challenge"},
        {"reason": "registration"},
        {"reason": "registration"},
        {"reason": "duplicate"},
    ]


def test_a_name_is_needed_and_the_app_comes_first(operator, settings):
    client = _signed_in_with_app(operator)
    unnamed = _post(client, "security_key_register_options", {"name": "  "})
    assert unnamed.status_code == 400
    assert unnamed.json()["message"] == _ru(
        "Name the key, for example “Blue key” or “Work laptop”."
    )
    too_long = _post(client, "security_key_register_options", {"name": "я" * 65})
    assert too_long.status_code == 400
    assert _post(client, "security_key_register_options", {}).status_code == 400
    assert _post(client, "security_key_register_options", {"name": "a\x07b"}).status_code == 400
    bad_json = client.post(
        reverse("security_key_register_options"), data=b"{", content_type="application/json"
    )
    assert bad_json.status_code == 400

    settings.OPORA_STAFF_2FA = False
    newcomer = make_user(Role.OPERATOR, service=operator.services.first())
    without_app = Client()
    without_app.force_login(newcomer)
    assert _post(without_app, "security_key_register_options", {"name": "Ключ"}).status_code == 403
    page = without_app.get(reverse("account")).content.decode()
    assert 'id="security-key-add-form"' not in page


def test_a_key_is_removed_with_the_password_and_only_ones_own(operator):
    client = _signed_in_with_app(operator)
    _add_key(client)
    mine = WebAuthnCredential.objects.get(user=operator)
    url = reverse("security_key_remove", args=[mine.pk])
    assert client.get(url).status_code == 200

    wrong = client.post(url, {"password": "not-the-password"})
    assert wrong.status_code == 200
    assert escape(_ru("The password is wrong.")) in wrong.content.decode()
    assert WebAuthnCredential.objects.filter(pk=mine.pk).exists()

    colleague = make_user(Role.OPERATOR, service=operator.services.first())
    TOTPDevice.objects.create(user=colleague, name="authenticator", confirmed=True)
    stranger = _signed_in_with_app(colleague)
    assert stranger.get(url).status_code == 404
    assert stranger.post(url, {"password": PASSWORD}).status_code == 404
    assert WebAuthnCredential.objects.filter(pk=mine.pk).exists()

    done = client.post(url, {"password": PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("account")
    assert not WebAuthnCredential.objects.filter(pk=mine.pk).exists()
    removed = AuditEvent.objects.get(event_type="auth.webauthn_removed")
    assert removed.extra == {"key": mine.pk}


def test_json_posts_need_the_csrf_token(operator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    assert _post(client, "security_key_sign_in_options", {}).status_code == 403


def test_the_relying_party_follows_the_settings(settings):
    settings.OPORA_PUBLIC_URL = "https://opora.example.kz:8443/base/"
    settings.OPORA_WEBAUTHN_RP_ID = ""
    assert security_keys.rp_id() == "opora.example.kz"
    assert security_keys.expected_origin() == "https://opora.example.kz:8443"
    settings.OPORA_WEBAUTHN_RP_ID = "example.kz"
    assert security_keys.rp_id() == "example.kz"
