"""Log scrubbing: IINs (12-digit runs) and phone numbers never reach a log line."""

import logging
import re

_IIN = re.compile(r"(?<!\d)\d{12}(?!\d)")
# Not inside a decimal number ("0.00123456789s" is a timing, not a phone).
_PHONE = re.compile(r"(?<![\d.])\+?\d[\d\s()-]{8,}\d(?![\d.])")


def scrub(text: str) -> str:
    return _PHONE.sub("[phone]", _IIN.sub("[iin]", text))


class ScrubPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not kill logging
            return True
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True
