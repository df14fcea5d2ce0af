"""API tokens: issued once, stored as a hash, revocable; `opora create_api_token`; the admin."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from opora.accounts.models import ApiToken, Role, User, hash_token
from opora.accounts.services import api_token_create, api_token_revoke
from opora.core.models import AuditEvent
from opora.demo.factories import make_user


@pytest.mark.django_db
def test_token_is_returned_once_and_stored_as_a_hash(operator):
    token, raw = api_token_create(user=operator, name="call centre")
    assert raw.startswith("opora_") and len(raw) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hash_token(raw)
    assert raw not in (stored.key_hash, stored.prefix, stored.name)
    assert raw.removeprefix("opora_").startswith(stored.prefix)
    assert AuditEvent.objects.filter(
        event_type="api_token.created", subject_id=str(token.pk)
    ).exists()


@pytest.mark.django_db
def test_two_tokens_differ(operator):
    assert api_token_create(user=operator)[1] != api_token_create(user=operator)[1]


@pytest.mark.django_db
def test_revoke_is_idempotent(operator, head):
    token, _ = api_token_create(user=operator)
    first = api_token_revoke(token=token, actor=head).revoked_at
    assert first is not None
    assert api_token_revoke(token=token, actor=head).revoked_at == first
    assert AuditEvent.objects.filter(event_type="api_token.revoked").count() == 1


def run_command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_command_prints_a_working_token_as_its_last_line(operator):
    out, err = run_command(operator.username, "--name", "ГЦВП softphone")
    assert out.endswith("\n")
    raw = out.splitlines()[-1]
    token = ApiToken.objects.get(key_hash=hash_token(raw))
    assert token.user == operator and token.name == "ГЦВП softphone"
    assert token.prefix in err

    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")
    response = client.get("/api/v1/slots/nearest?service=kz-1411")
    assert response.status_code != 401
    assert response.json()["detail"] != "Unauthorized"


@pytest.mark.django_db
def test_command_rejects_an_unknown_user():
    with pytest.raises(CommandError, match="No user with the username “ghost”"):
        run_command("ghost")
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_command_rejects_an_inactive_user(service):
    user = make_user(Role.OPERATOR, is_active=False)
    with pytest.raises(CommandError, match="not active"):
        run_command(user.username)


# --- admin ----------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(db) -> Client:
    admin = User.objects.create_superuser("root", "root@example.org", "pass-Word-123")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin)
    return client


def test_admin_edits_role_organisation_services_and_patronymic(admin_client, operator):
    page = admin_client.get(f"/admin/accounts/user/{operator.pk}/change/")
    assert page.status_code == 200
    for field in ("role", "organisation", "services", "patronymic"):
        assert f'name="{field}"' in page.content.decode()
    assert admin_client.get("/admin/accounts/user/add/").status_code == 200
    assert admin_client.get("/admin/accounts/user/?role=operator").status_code == 200


def test_admin_shows_tokens_read_only_and_revokes(admin_client, operator):
    token, raw = api_token_create(user=operator)
    listing = admin_client.get("/admin/accounts/apitoken/")
    assert listing.status_code == 200
    assert token.prefix in listing.content.decode()
    assert raw not in listing.content.decode()
    assert "/admin/accounts/apitoken/add/" not in listing.content.decode()
    detail = admin_client.get(f"/admin/accounts/apitoken/{token.pk}/change/")
    assert detail.status_code == 200
    assert 'name="name"' not in detail.content.decode()
    assert token.key_hash not in detail.content.decode()

    response = admin_client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 token revoked." in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
