"""SMS behind an adapter. The default keeps messages in the Notification outbox (nothing leaves the
machine); a gateway backend implements `send` against the provider's HTTP API."""

from django.conf import settings
from django.utils.module_loading import import_string


class SmsBackend:
    def send(self, *, phone: str, text: str) -> str:
        """Send and return the provider's message id; raise on failure."""
        raise NotImplementedError


class OutboxSmsBackend(SmsBackend):
    """Keeps the message in the outbox only: for the embedded default and tests."""

    def send(self, *, phone: str, text: str) -> str:
        return "outbox"


def get_sms_backend() -> SmsBackend:
    return import_string(settings.OPORA_SMS_BACKEND)()
