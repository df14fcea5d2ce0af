"""Kazakhstan individual identification number (IIN, ИИН) validation.

Layout of the 12 digits: YYMMDD birth date, one century+sex digit, a 4-digit serial and a
control digit. The control digit is a weighted sum modulo 11 with a second set of weights
when the first gives 10; numbers whose second pass also gives 10 are never issued.
"""

from __future__ import annotations

import calendar
import datetime
import functools
from collections.abc import Callable
from operator import mul
from zoneinfo import ZoneInfo

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

__all__ = [
    "IINError",
    "iin_birth_date",
    "iin_sex",
    "is_valid_iin",
    "make_iin",
    "validate_iin",
]

IIN_LENGTH = 12

# "Today" must be the Kazakhstan calendar day: a baby registered just after local midnight
# would otherwise look born in the future on a UTC server.
KZ_TZ = ZoneInfo("Asia/Almaty")

_WEIGHTS_1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)

# 7th digit -> (century start, sex); odd = male, even = female.
_CENTURY_SEX: dict[str, tuple[int, str]] = {
    "1": (1800, "M"),
    "2": (1800, "F"),
    "3": (1900, "M"),
    "4": (1900, "F"),
    "5": (2000, "M"),
    "6": (2000, "F"),
}

# Separators people type when copying an IIN from documents; anything else is an error.
_SEPARATORS = str.maketrans("", "", "-\u2010\u2011\u2012\u2013\u2014\u2212")

MSG_EMPTY = _("Enter the IIN.")
MSG_DIGITS = _("The IIN may contain only the digits 0–9; found: %(chars)s.")
MSG_LENGTH = _("The IIN must have exactly 12 digits; %(count)s given.")
MSG_CENTURY = _("The 7th digit of the IIN (century and sex) must be from 1 to 6; %(digit)s given.")
MSG_MONTH = _(
    "The IIN does not contain a valid birth date: month %(month)s does not exist "
    "(digits 3–4 must be 01–12)."
)
MSG_DAY = _(
    "The IIN does not contain a valid birth date: day %(day)s does not exist in "
    "%(month)s.%(year)s (that month has %(days_in_month)s days)."
)
MSG_FUTURE = _("The birth date in the IIN, %(date)s, is in the future.")
MSG_CHECKSUM = _(
    "The IIN control digit (the 12th) does not match the other digits; check the number for typos."
)
MSG_UNISSUABLE = _(
    "This number cannot be an IIN: no control digit exists for these first 11 digits; "
    "check the number for typos."
)


class IINError(ValueError):
    """An IIN failed validation.

    ``code`` is one of "empty", "length", "digits", "birth_date", "century", "checksum";
    ``template`` is the lazy translatable message and ``params`` its substitutions, so a
    form can build ``ValidationError(err.template, code=err.code, params=err.params)``.
    """

    def __init__(self, code: str, template: str | Promise, **params: object) -> None:
        super().__init__(code, params)
        self.code = code
        self.template = template
        self.params = params

    @property
    def message(self) -> str:
        """The message in the active language, with parameters filled in."""
        return str(self.template) % self.params

    def __str__(self) -> str:
        return self.message


def _today() -> datetime.date:
    return datetime.datetime.now(tz=KZ_TZ).date()


_ZERO_1 = 48 * sum(_WEIGHTS_1)
_ZERO_2 = 48 * sum(_WEIGHTS_2)


def _control_digit(first11: str) -> int | None:
    """Control digit for the first 11 digits, or None when both passes give 10."""
    # Weighted sum over the ASCII codes, minus the weighted "0"s: the registry import calls this
    # millions of times, and map(mul) over bytes is several times faster than a generator.
    codes = first11.encode("ascii")
    check = (sum(map(mul, codes, _WEIGHTS_1)) - _ZERO_1) % 11
    if check == 10:
        check = (sum(map(mul, codes, _WEIGHTS_2)) - _ZERO_2) % 11
        if check == 10:
            return None
    return check


def _normalise(value: str) -> str:
    return "".join(value.split()).translate(_SEPARATORS)


def _parse(value: str, today: datetime.date | None) -> tuple[str, datetime.date, str]:
    """Validate and return (normalised IIN, birth date, sex)."""
    iin = _normalise(value or "")
    if not iin:
        raise IINError("empty", MSG_EMPTY)
    if not (iin.isascii() and iin.isdigit()):
        bad = dict.fromkeys(c for c in iin if not ("0" <= c <= "9"))
        raise IINError("digits", MSG_DIGITS, chars=", ".join(f"«{c}»" for c in bad))
    if len(iin) != IIN_LENGTH:
        raise IINError("length", MSG_LENGTH, count=len(iin))

    century_sex = _CENTURY_SEX.get(iin[6])
    if century_sex is None:
        raise IINError("century", MSG_CENTURY, digit=iin[6])
    century, sex = century_sex

    year = century + int(iin[0:2])
    month = int(iin[2:4])
    day = int(iin[4:6])
    if not 1 <= month <= 12:
        raise IINError("birth_date", MSG_MONTH, month=iin[2:4])
    days_in_month = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days_in_month:
        raise IINError(
            "birth_date",
            MSG_DAY,
            day=iin[4:6],
            month=iin[2:4],
            year=year,
            days_in_month=days_in_month,
        )
    birth_date = datetime.date(year, month, day)
    if birth_date > (today or _today()):
        raise IINError("birth_date", MSG_FUTURE, date=birth_date.strftime("%d.%m.%Y"))

    expected = _control_digit(iin[:11])
    if expected is None:
        raise IINError("checksum", MSG_UNISSUABLE)
    if expected != int(iin[11]):
        raise IINError("checksum", MSG_CHECKSUM)
    return iin, birth_date, sex


@functools.lru_cache(maxsize=1 << 16)
def _birth_prefix_ok(prefix: str, today: datetime.date) -> bool:
    """Whether the first 7 digits (birth date and century/sex) are possible on `today`."""
    century_sex = _CENTURY_SEX.get(prefix[6])
    if century_sex is None:
        return False
    try:
        born = datetime.date(century_sex[0] + int(prefix[0:2]), int(prefix[2:4]), int(prefix[4:6]))
    except ValueError:
        return False
    return born <= today


def iin_checker(today: datetime.date) -> Callable[[str], bool]:
    """A fast yes/no test for clean 12-digit IINs, for bulk imports.

    It says True only for a valid IIN; on False call `validate_iin` for the reason.
    """
    prefixes: dict[str, bool] = {}

    def check(value: str) -> bool:
        if len(value) != IIN_LENGTH or not value.isdigit() or not value.isascii():
            return False
        prefix = value[:7]
        ok = prefixes.get(prefix)
        if ok is None:
            ok = prefixes[prefix] = _birth_prefix_ok(prefix, today)
        return ok and _control_digit(value[:11]) == ord(value[11]) - 48

    return check


def validate_iin(value: str, *, today: datetime.date | None = None) -> str:
    """Return the IIN as 12 digits (spaces and hyphens removed) or raise IINError.

    ``today`` (default: the current date in Kazakhstan) bounds the birth date.
    """
    # Fast path for the common, clean case (a registry import validates millions); anything it
    # does not accept goes through the full parse, which names the problem.
    if (
        len(value) == IIN_LENGTH
        and value.isascii()
        and value.isdigit()
        and _birth_prefix_ok(value[:7], today or _today())
        and _control_digit(value[:11]) == ord(value[11]) - 48
    ):
        return value
    return _parse(value, today)[0]


def is_valid_iin(value: str, *, today: datetime.date | None = None) -> bool:
    """True when ``value`` is a valid IIN."""
    try:
        _parse(value, today)
    except IINError:
        return False
    return True


def iin_birth_date(iin: str) -> datetime.date:
    """Birth date encoded in a valid IIN; raises IINError for an invalid one."""
    return _parse(iin, None)[1]


def iin_sex(iin: str) -> str:
    """ "M" or "F" as encoded in a valid IIN; raises IINError for an invalid one."""
    return _parse(iin, None)[2]


def make_iin(birth_date: datetime.date, sex: str, serial: int) -> str | None:
    """Build a synthetic IIN, or None when no control digit exists for this serial.

    ``sex`` is "M" or "F"; ``serial`` is 0–9999 (digits 8–11). Birth dates from 1800 to 2099.
    The result is not checked against today's date.
    """
    if sex not in ("M", "F"):
        raise ValueError(f"sex must be 'M' or 'F', not {sex!r}")
    if not 0 <= serial <= 9999:
        raise ValueError(f"serial must be 0–9999, not {serial!r}")
    if not 1800 <= birth_date.year <= 2099:
        raise ValueError(f"IINs encode birth years 1800–2099, not {birth_date.year}")
    century_digit = (birth_date.year - 1800) // 100 * 2 + (1 if sex == "M" else 2)
    first11 = f"{birth_date:%y%m%d}{century_digit}{serial:04d}"
    check = _control_digit(first11)
    if check is None:
        return None
    return f"{first11}{check}"
