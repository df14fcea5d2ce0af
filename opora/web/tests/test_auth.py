"""Signing in and out, where each role lands, and the plain 403 page for the wrong role."""

import pytest
from django.urls import reverse

from opora.accounts.models import Role
from opora.demo.factories import make_user

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_is_accessible_russian_and_labelled(client):
    response = client.get(reverse("login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ru"' in html
    assert 'class="skip-link" href="#main"' in html
    assert '<main id="main"' in html
    assert "<title>" in html and "<h1>" in html
    assert 'for="id_username"' in html and 'for="id_password"' in html
    assert 'id="language-select"' in html


def test_wrong_password_is_explained_and_username_kept(client, operator):
    response = client.post(reverse("login"), {"username": operator.username, "password": "nope"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="login-error"' in html and 'role="alert"' in html
    assert f'value="{operator.username}"' in html


@pytest.mark.parametrize(
    ("role_fixture", "target"),
    [
        ("operator", "operator_console"),
        ("coordinator", "coordinator_schedules"),
        ("head", "head_schedules"),
        ("consultant", "consultant_day"),
    ],
)
def test_login_then_home_redirects_by_role(client, request, role_fixture, target):
    user = request.getfixturevalue(role_fixture)
    response = client.post(
        reverse("login"), {"username": user.username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse(target)
    assert response.status_code == 200
    html = response.content.decode()
    assert user.display_name in html
    assert user.get_role_display() in html


def test_admin_goes_to_django_admin_and_authority_to_reports(client, service):
    admin = make_user(Role.ADMIN, service=service, is_staff=True)
    client.force_login(admin)
    assert client.get(reverse("home")).url == reverse("admin:index")
    authority = make_user(Role.AUTHORITY)
    client.force_login(authority)
    response = client.get(reverse("home"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("authority_home")
    assert response.status_code == 200


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("operator_console"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role_fixture", "url_name"),
    [
        ("operator", "head_schedules"),
        ("operator", "coordinator_schedules"),
        ("consultant", "operator_console"),
        ("coordinator", "head_schedules"),
        ("head", "consultant_day"),
    ],
)
def test_wrong_role_gets_plain_403_with_a_way_home(client, request, role_fixture, url_name):
    client.force_login(request.getfixturevalue(role_fixture))
    response = client.get(reverse(url_name))
    html = response.content.decode()
    assert response.status_code == 403
    assert 'id="go-home"' in html and f'href="{reverse("home")}"' in html
    assert "Traceback" not in html
    assert '<main id="main"' in html


def test_user_without_service_is_told_so(client):
    client.force_login(make_user(Role.OPERATOR))
    response = client.get(reverse("operator_console"))
    assert response.status_code == 403
    assert "<h1>" in response.content.decode()


def test_logout_is_a_post(client, operator):
    client.force_login(operator)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("operator_console")).status_code == 302


def test_language_switch_to_kazakh_and_english(client, operator):
    client.force_login(operator)
    response = client.post(
        reverse("set_language"), {"language": "en", "next": reverse("operator_console")}
    )
    assert response.status_code == 302
    html = client.get(reverse("operator_console")).content.decode()
    assert '<html lang="en"' in html
    client.post(reverse("set_language"), {"language": "kk", "next": "/"})
    assert '<html lang="kk"' in client.get(reverse("operator_console")).content.decode()
