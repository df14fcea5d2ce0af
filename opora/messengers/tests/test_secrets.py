"""Messenger tokens and webhook secrets are stored encrypted; `env:NAME` still reads the
environment."""

import pytest
from django.db import connection

from opora.demo.factories import make_district_service
from opora.messengers.models import ChannelAccount
from opora.messengers.tests.conftest import make_account

pytestmark = pytest.mark.django_db


def test_tokens_are_encrypted_in_the_database(stand_in, monkeypatch):
    monkeypatch.setenv("OPORA_TEST_BOT_SECRET", "from-the-environment")
    account = make_account(
        make_district_service(), "telegram", stand_in, webhook_secret="env:OPORA_TEST_BOT_SECRET"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT token, webhook_secret, app_secret FROM messengers_channelaccount WHERE id = %s",
            [account.pk],
        )
        token, webhook_secret, app_secret = cursor.fetchone()
    assert token.startswith("enc1:") and "telegram-token" not in token
    assert webhook_secret.startswith("enc1:") and app_secret == ""
    fresh = ChannelAccount.objects.get(pk=account.pk)
    assert fresh.token == "telegram-token-123"
    assert fresh.secret("webhook_secret") == "from-the-environment"


def _data(account: ChannelAccount, **changes) -> dict:
    from django.forms.models import model_to_dict

    data = {k: v for k, v in model_to_dict(account).items() if v is not None}
    data.update(changes)
    return data


def test_the_admin_never_shows_a_token_and_an_empty_field_keeps_it(stand_in):
    from opora.messengers.admin import ChannelAccountForm

    account = make_account(make_district_service(), "whatsapp", stand_in)
    html = str(ChannelAccountForm(instance=account))
    assert "whatsapp-token-123" not in html and "wa-app-secret" not in html

    form = ChannelAccountForm(
        data=_data(account, name="Бот", token="", webhook_secret="", app_secret=""),
        instance=account,
    )
    assert form.is_valid(), form.errors
    form.save()
    fresh = ChannelAccount.objects.get(pk=account.pk)
    assert (fresh.name, fresh.token, fresh.app_secret) == (
        "Бот",
        "whatsapp-token-123",
        "wa-app-secret",
    )

    new = ChannelAccountForm(data=_data(account, slug="second", token=""))
    assert not new.is_valid() and "token" in new.errors
