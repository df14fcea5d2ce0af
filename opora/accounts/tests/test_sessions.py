"""Staff sessions end after 30 idle minutes, and "sign out everywhere" ends them all."""

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from opora.accounts.models import Role
from opora.accounts.sessions import SEEN_KEY, SINCE_KEY
from opora.core.models import AuditEvent
from opora.demo.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "pass-Word-123"  # make_user's


def _signed_in(user) -> Client:
    c = Client()
    assert (
        c.post(reverse("login"), {"username": user.username, "password": PASSWORD}).status_code
        == 302
    )
    return c


def _age(c: Client, *, minutes: float, key: str = SEEN_KEY) -> None:
    """Pretend the session's last request (or its start) was `minutes` ago."""
    session = c.session
    session[key] = (timezone.now() - dt.timedelta(minutes=minutes)).timestamp()
    session.save()


def test_a_staff_session_ends_after_thirty_idle_minutes(settings):
    assert settings.OPORA_STAFF_IDLE_MINUTES == 30
    user = make_user(Role.OPERATOR)
    c = _signed_in(user)
    assert c.get(reverse("account")).status_code == 200
    _age(c, minutes=29)
    assert c.get(reverse("account")).status_code == 200  # still in, and the clock restarts
    _age(c, minutes=31)
    response = c.get(reverse("account"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=%2Faccount%2F"
    assert "_auth_user_id" not in c.session
    page = c.get(response["Location"]).content.decode()
    assert "Вы вышли из системы после периода бездействия" in page
    assert AuditEvent.objects.filter(
        event_type="auth.session_idle_ended", actor_id=user.pk
    ).exists()


def test_activity_keeps_the_session_and_the_store_expires_with_the_idle_clock():
    user = make_user(Role.OPERATOR)
    c = _signed_in(user)
    c.get(reverse("account"))
    row = Session.objects.get(session_key=c.session.session_key)
    left = row.expire_date - timezone.now()
    assert dt.timedelta(minutes=31) < left <= dt.timedelta(minutes=32)
    # The room's ping counts as activity.
    _age(c, minutes=20)
    assert c.get(reverse("session_alive")).json() == {"ok": True}
    _age(c, minutes=20)  # 40 minutes since the page, 20 since the ping... written as seen now
    assert c.get(reverse("account")).status_code == 200


def test_the_idle_limit_is_a_setting(settings):
    settings.OPORA_STAFF_IDLE_MINUTES = 5
    c = _signed_in(make_user(Role.OPERATOR))
    c.get(reverse("account"))
    _age(c, minutes=6)
    assert c.get(reverse("account")).status_code == 302


def test_an_htmx_request_after_the_idle_limit_reloads_the_sign_in_page():
    c = _signed_in(make_user(Role.OPERATOR))
    c.get(reverse("account"))
    _age(c, minutes=45)
    response = c.get(reverse("operator_console"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("login"))


def test_even_an_active_session_ends_after_the_cap():
    c = _signed_in(make_user(Role.OPERATOR))
    c.get(reverse("account"))
    _age(c, minutes=13 * 60, key=SINCE_KEY)
    assert c.get(reverse("account")).status_code == 302


def test_sign_out_everywhere_ends_the_other_sessions_and_is_audited():
    user = make_user(Role.OPERATOR)
    other = make_user(Role.OPERATOR)
    desk, phone = _signed_in(user), _signed_in(user)
    colleague = _signed_in(other)
    for c in (desk, phone, colleague):
        assert c.get(reverse("account")).status_code == 200
    page = desk.get(reverse("account")).content.decode()
    assert 'id="sign-out-everywhere"' in page
    response = desk.post(reverse("sign_out_everywhere"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    # Both of this user's sessions are gone; the colleague's is not.
    assert phone.get(reverse("account")).status_code == 302
    assert desk.get(reverse("account")).status_code == 302
    assert colleague.get(reverse("account")).status_code == 200
    [event] = AuditEvent.objects.filter(event_type="auth.signed_out_everywhere")
    assert event.actor_id == user.pk and event.extra == {"other_sessions": 1}


def test_sign_out_everywhere_takes_a_post():
    c = _signed_in(make_user(Role.OPERATOR))
    assert c.get(reverse("sign_out_everywhere")).status_code == 405
