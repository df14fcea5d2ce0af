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
