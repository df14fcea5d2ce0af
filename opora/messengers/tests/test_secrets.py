"""Messenger tokens and webhook secrets are stored encrypted; `env:NAME` still reads the
environment."""

import pytest
from django.db import connection

from opora.core.testing import make_district_service
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
