"""Too many wrong passwords pause sign-in for that account from that address (django-axes)."""

import pytest
from django.urls import reverse

from opora.accounts.models import Role
from opora.demo.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "pass-Word-123"  # make_user's


def _sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_after_five_wrong_passwords_even_the_right_one_is_refused(client):
    user = make_user(Role.OPERATOR)
    for _ in range(4):
        wrong = _sign_in(client, user.username, "wrong")
        assert wrong.status_code == 200  # the form again, with its error
    assert _sign_in(client, user.username, "wrong").status_code == 429  # the fifth
    locked = _sign_in(client, user.username, PASSWORD)
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Слишком много неверных паролей" in text and "15 минут" in text
    assert "_auth_user_id" not in client.session
    # Another account from the same computer is not affected.
    other = make_user(Role.OPERATOR)
    assert _sign_in(client, other.username, PASSWORD).status_code == 302


def test_a_successful_sign_in_resets_the_count(client):
    user = make_user(Role.OPERATOR)
    for _ in range(4):
        _sign_in(client, user.username, "wrong")
    assert _sign_in(client, user.username, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        _sign_in(client, user.username, "wrong")
    assert _sign_in(client, user.username, PASSWORD).status_code == 302


def _from(client, address, username, password):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_one_account_guessed_from_many_addresses_is_paused(client, settings):
    """Five guesses from each of four addresses: the account is paused everywhere, the real
    user's own address included; other accounts are not."""
    assert settings.OPORA_SIGNIN_LIMIT_ACCOUNT == 20
    user = make_user(Role.OPERATOR)
    statuses = [
        _from(client, f"198.51.100.{n}", user.username, f"guess-{n}-{i}").status_code
        for n in range(1, 5)
        for i in range(4)  # four from each: the per-address pause of five is never reached
    ]
    assert 429 not in statuses[:16]
    assert _from(client, "198.51.100.9", user.username, "guess").status_code == 200  # the 17th
    for n in range(3):
        _from(client, "198.51.100.10", user.username, f"again-{n}")
    # 20 wrong in all: paused from any address, even with the right password.
    assert _from(client, "203.0.113.7", user.username, PASSWORD).status_code == 429
    other = make_user(Role.OPERATOR)
    assert _from(client, "203.0.113.7", other.username, PASSWORD).status_code == 302


def test_the_pause_of_one_account_lasts_only_the_cool_off(client, settings):
    """A stranger keeps a real user out for 15 minutes after the last wrong guess, no longer."""
    import datetime as dt

    from axes.models import AccessAttempt
    from django.utils import timezone

    settings.OPORA_SIGNIN_LIMIT_ACCOUNT = 6
    user = make_user(Role.OPERATOR)
    for n in range(6):
        _from(client, f"198.51.100.{n}", user.username, "wrong")
    assert _from(client, "203.0.113.7", user.username, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    assert _from(client, "203.0.113.7", user.username, PASSWORD).status_code == 302


def test_one_address_guessing_many_accounts_is_paused(client, settings):
    settings.OPORA_SIGNIN_LIMIT_ADDRESS = 8
    users = [make_user(Role.OPERATOR) for _ in range(4)]
    statuses = [_from(client, "192.0.2.5", u.username, "wrong").status_code for u in users * 2]
    assert statuses == [200] * 7 + [429]  # the eighth wrong one, two per account
    fresh = make_user(Role.OPERATOR)
    assert _from(client, "192.0.2.5", fresh.username, PASSWORD).status_code == 429
    assert _from(client, "192.0.2.6", fresh.username, PASSWORD).status_code == 302


def test_a_wrong_password_and_an_unknown_account_read_the_same(client):
    user = make_user(Role.OPERATOR)
    import re

    def text(response) -> str:
        html = response.content.decode()
        return re.sub(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]+"', "", html)

    wrong = text(_sign_in(client, user.username, "wrong"))
    unknown = text(_sign_in(client, "nobody-such", "wrong"))
    assert "Неверное имя пользователя или пароль" in wrong
    assert wrong.replace(user.username, "X") == unknown.replace("nobody-such", "X")
