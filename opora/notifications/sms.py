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


# GSM 03.38: the default alphabet (one septet each) and its extension table (an escape plus a
# septet: two each). Any other character makes the whole message UCS-2.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("\f^{}\\[~]|€")
# (characters in a single message, characters per part of a concatenated one)
GSM7_LIMITS = (160, 153)
UCS2_LIMITS = (70, 67)


def sms_units(text: str) -> tuple[int, bool]:
    """(length in the encoding's units, whether GSM-7 suffices): septets for GSM-7, UTF-16 code
    units for UCS-2 (a character outside the BMP, e.g. an emoji, takes two)."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        return sum(2 if c in GSM7_EXTENDED else 1 for c in text), True
    return len(text.encode("utf-16-le")) // 2, False


def sms_segments(text: str) -> int:
    """How many SMS parts `text` is sent as: GSM-7 160 in one, 153 a part; UCS-2 (any Cyrillic
    letter) 70 in one, 67 a part."""
    units, gsm7 = sms_units(text)
    single, per_part = GSM7_LIMITS if gsm7 else UCS2_LIMITS
    if units <= single:
        return 1
    return -(-units // per_part)


def sms_max_units(text: str, *, segments: int = 2) -> int:
    """The most units a message in `text`'s encoding may have to stay within `segments` parts."""
    _units, gsm7 = sms_units(text)
    single, per_part = GSM7_LIMITS if gsm7 else UCS2_LIMITS
    return single if segments == 1 else per_part * segments


def sms_fit(candidates: list[str], *, segments: int = 2) -> str:
    """The first of `candidates` (fullest first) that is sent in at most `segments` parts; the
    last one when none is."""
    for text in candidates:
        if sms_segments(text) <= segments:
            return text
    return candidates[-1]
