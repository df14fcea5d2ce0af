import datetime as dt
import json

import pytest

from opora.demo.factories import make_registry_record
from opora.messengers.adapters.base import hmac_sha256_hex
from opora.messengers.models import ChannelAccount
from opora.messengers.testing import StandInApi


@pytest.fixture
def stand_in():
    api = StandInApi().start()
    yield api
    api.stop()


def make_account(service, channel: str, stand_in: StandInApi, **kw) -> ChannelAccount:
    defaults = {
        "service": service,
        "channel": channel,
        "slug": f"{channel}-bot",
        "name": "Бот службы",
        "token": f"{channel}-token-123",
        "webhook_secret": f"{channel}-secret",
        "app_secret": "wa-app-secret" if channel == "whatsapp" else "",
        "external_id": "1234567890" if channel in ("whatsapp", "vk") else "",
        "confirmation_code": "a1b2c3d4" if channel == "vk" else "",
        "api_base": stand_in.base_url,
    }
    defaults.update(kw)
    return ChannelAccount.objects.create(**defaults)


@pytest.fixture
def telegram(service, stand_in):
    return make_account(service, "telegram", stand_in)


class Webhook:
    """Posts to an account's webhook as the provider would, running the after-commit work."""

    def __init__(self, client, capture):
        self.client = client
        self.capture = capture

    def post(self, account, payload, *, good: bool = True):
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {}
        if account.channel == "telegram":
            headers["X-Telegram-Bot-Api-Secret-Token"] = account.webhook_secret if good else "no"
        elif account.channel == "whatsapp":
            key = account.app_secret if good else "wrong"
            headers["X-Hub-Signature-256"] = "sha256=" + hmac_sha256_hex(key, body)
        elif account.channel == "viber":
            key = account.token if good else "wrong"
            headers["X-Viber-Content-Signature"] = hmac_sha256_hex(key, body)
        url = f"/messengers/{account.channel}/{account.slug}/webhook/"
        with self.capture(execute=True):
            return self.client.post(
                url, data=body, content_type="application/json", headers=headers
            )


@pytest.fixture
def webhook(client, django_capture_on_commit_callbacks):
    return Webhook(client, django_capture_on_commit_callbacks)


@pytest.fixture
def eligible_parent(db):
    """An active ЦБД benefit recipient raising a disabled child (synthetic)."""
    from opora.registry.iin import make_iin

    def iin(birth, sex, serial):
        while (value := make_iin(birth, sex, serial)) is None:
            serial += 1
        return value

    return make_registry_record(
        source="cbd",
        iin=iin(dt.date(1988, 3, 14), "F", 1234),
        child_iin=iin(dt.date(2016, 9, 2), "M", 4321),
        last_name="Ахметова",
        first_name="Айгерим",
        patronymic="Сериковна",
        relation="мать",
        status="active",
    )
