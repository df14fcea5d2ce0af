"""Log scrubbing: IINs (12-digit runs) and phone numbers never reach a log line.

Identifiers that merely contain digits are not personal data and stay readable: a UUID (Celery's
task ids: "922665af-a123-4567-8fda-eaeb8d13bd8d" once lost "123-4567-8" to "[phone]"), a long hex
run (hashes) and an ISO date or date-time ("2026-12-05 17:03:28"). They are matched as whole
tokens first, so neither pattern below can start inside one.
"""

import logging
import re

_HEX = "[0-9A-Fa-f]"
_KEEP = (
    # A UUID, in any case, with or without braces around it.
    rf"(?<![0-9A-Za-z-]){_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}(?![0-9A-Za-z-])"
    # A hex run of 24 or more with at least one letter (a hash, a dashless UUID): not a number. Long
    # enough that an IIN or a phone with a few letters glued on is not mistaken for one.
    rf"|(?<![0-9A-Za-z])(?=[0-9]*[A-Fa-f]){_HEX}{{24,}}(?![0-9A-Za-z])"
    # An ISO date, optionally with the time: 19xx/20xx, a real month and day, not one more group.
    r"|(?<![\d-])(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    r"(?:[ T](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?)?(?![\d-])"
)
_IIN = r"(?<!\d)\d{12}(?!\d)"
# Not inside a decimal number ("0.00123456789s" is a timing, not a phone); a full stop that ends a
# sentence after the number does not save it.
_PHONE = r"(?<!\d)(?<!\d\.)\+?\d[\d\s()-]{8,}\d(?!\d|\.\d)"
_PERSONAL = re.compile(rf"(?P<keep>{_KEEP})|(?P<iin>{_IIN})|(?P<phone>{_PHONE})")


def _replace(match: re.Match[str]) -> str:
    if match.group("keep"):
        return match.group(0)
    return "[iin]" if match.group("iin") else "[phone]"


def scrub(text: str) -> str:
    return _PERSONAL.sub(_replace, text)


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
