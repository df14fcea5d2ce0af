import datetime

from django.conf import settings

# Under pytest-django settings are already set up. Without it (pytest -p no:django) the app
# registry is not ready, so translations cannot load: fall back to untranslated msgids.
if not settings.configured:
    settings.configure(USE_I18N=False)

import pytest  # noqa: E402
from django.utils import translation  # noqa: E402

from opora.registry.iin import (  # noqa: E402
    IINError,
    iin_birth_date,
    iin_sex,
    is_valid_iin,
    make_iin,
    validate_iin,
)

TODAY = datetime.date(2025, 6, 1)


def _error(value: str, today: datetime.date = TODAY) -> IINError:
    with pytest.raises(IINError) as excinfo:
        validate_iin(value, today=today)
    return excinfo.value


def _message(err: IINError) -> str:
    # English msgids regardless of the active language (the suite may run with "ru").
    with translation.override(None):
        return err.message


# --- control digit, computed by hand -------------------------------------------------------


def test_first_pass_control_digit() -> None:
    # 9 0 0 5 1 5 3 0 0 0 1 with weights 1..11:
    # 9 + 0 + 0 + 20 + 5 + 30 + 21 + 0 + 0 + 0 + 11 = 96; 96 % 11 = 8
    assert validate_iin("900515300018", today=TODAY) == "900515300018"
    assert _error("900515300017").code == "checksum"


def test_second_pass_control_digit() -> None:
    # 9 0 0 5 1 5 3 0 0 9 0, first pass weights 1..11:
    # 9 + 0 + 0 + 20 + 5 + 30 + 21 + 0 + 0 + 90 + 0 = 175; 175 % 11 = 10 -> second pass
    # weights 3,4,5,6,7,8,9,10,11,1,2:
    # 27 + 0 + 0 + 30 + 7 + 40 + 27 + 0 + 0 + 9 + 0 = 140; 140 % 11 = 8
    assert validate_iin("900515300908", today=TODAY) == "900515300908"
    assert make_iin(datetime.date(1990, 5, 15), "M", 90) == "900515300908"
    # A "0" control digit would come from naively taking 10 % 10.
    assert _error("900515300900").code == "checksum"


def test_both_passes_ten_is_never_valid() -> None:
    # 9 0 0 5 1 5 3 0 0 9 1, first pass:
    # 9 + 0 + 0 + 20 + 5 + 30 + 21 + 0 + 0 + 90 + 11 = 186; 186 % 11 = 10
    # second pass: 27 + 0 + 0 + 30 + 7 + 40 + 27 + 0 + 0 + 9 + 2 = 142; 142 % 11 = 10
    assert make_iin(datetime.date(1990, 5, 15), "M", 91) is None
    for last in "0123456789":
        err = _error("90051530091" + last)
        assert err.code == "checksum"
        assert _message(err) == (
            "This number cannot be an IIN: no control digit exists for these first 11 "
            "digits; check the number for typos."
        )


def test_checksum_message() -> None:
    err = _error("900515300017")
    assert _message(err) == (
        "The IIN control digit (the 12th) does not match the other digits; "
        "check the number for typos."
    )
    assert str(err) == err.message


# --- make_iin round trip --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "sex", "century_digit"),
    [
        (datetime.date(1850, 1, 31), "M", "1"),
        (datetime.date(1899, 12, 31), "F", "2"),
        (datetime.date(1900, 3, 1), "M", "3"),
        (datetime.date(1984, 2, 29), "F", "4"),
        (datetime.date(2000, 2, 29), "M", "5"),
        (datetime.date(2019, 11, 7), "F", "6"),
    ],
)
def test_make_iin_round_trip(birth: datetime.date, sex: str, century_digit: str) -> None:
    made = 0
    for serial in range(0, 10000, 37):
        iin = make_iin(birth, sex, serial)
        if iin is None:
            continue
        made += 1
        assert len(iin) == 12
        assert iin[6] == century_digit
        assert iin[7:11] == f"{serial:04d}"
        assert validate_iin(iin, today=TODAY) == iin
        assert iin_birth_date(iin) == birth
        assert iin_sex(iin) == sex
    assert made > 200


def test_make_iin_none_only_when_unissuable() -> None:
    birth = datetime.date(2010, 7, 4)
    nones = 0
    for serial in range(10000):
        iin = make_iin(birth, "F", serial)
        if iin is None:
            nones += 1
            prefix = f"1007046{serial:04d}"
            assert all(_error(prefix + d).code == "checksum" for d in "0123456789")
        else:
            assert is_valid_iin(iin, today=TODAY)
            # Every other last digit is wrong.
            wrong = [iin[:11] + d for d in "0123456789" if d != iin[11]]
            assert not any(is_valid_iin(w, today=TODAY) for w in wrong)
    # Roughly 1 in 121 prefixes has no control digit.
    assert 40 < nones < 150


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((datetime.date(1990, 1, 1), "X", 1), "sex"),
        ((datetime.date(1990, 1, 1), "m", 1), "sex"),
        ((datetime.date(1990, 1, 1), "M", -1), "serial"),
        ((datetime.date(1990, 1, 1), "M", 10000), "serial"),
        ((datetime.date(1799, 12, 31), "M", 1), "1800"),
        ((datetime.date(2100, 1, 1), "M", 1), "1800"),
    ],
)
def test_make_iin_rejects_bad_arguments(args: tuple, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        make_iin(*args)


# --- normalisation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        " 900515300018 ",
        "900515 300018",
        "9005 1530 0018",
        "900515-300018",
        "900515 - 300 - 018",
        "900515\u2013300018",
        "\t900515300018\n",
        "900\u00a0515\u00a0300\u00a0018",
    ],
)
def test_spaces_and_hyphens_are_removed(raw: str) -> None:
    assert validate_iin(raw, today=TODAY) == "900515300018"
    assert is_valid_iin(raw, today=TODAY)


# --- each error code ------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "   ", " - ", "\n"])
def test_empty(raw: str) -> None:
    err = _error(raw)
    assert err.code == "empty"
    assert _message(err) == "Enter the IIN."


@pytest.mark.parametrize(
    ("raw", "count"),
    [("90051530001", 11), ("9005153000180", 13), ("1", 1), ("9005 1530 0018 7", 13)],
)
def test_length(raw: str, count: int) -> None:
    err = _error(raw)
    assert err.code == "length"
    assert err.params == {"count": count}
    assert _message(err) == f"The IIN must have exactly 12 digits; {count} given."


@pytest.mark.parametrize(
    ("raw", "chars"),
    [
        ("90051530001O", "«O»"),
        ("9005153OOO1Б", "«O», «Б»"),
        ("900515.300018", "«.»"),
        ("+77011234567", "«+»"),
        # Non-ASCII digits pass str.isdigit() but are not accepted.
        ("٩٠٠٥١٥٣٠٠٠١٨", "«٩», «٠», «٥», «١», «٣», «٨»"),
    ],
)
def test_digits(raw: str, chars: str) -> None:
    err = _error(raw)
    assert err.code == "digits"
    assert _message(err) == f"The IIN may contain only the digits 0–9; found: {chars}."


@pytest.mark.parametrize("digit", "0789")
def test_century(digit: str) -> None:
    err = _error(f"900515{digit}00018")
    assert err.code == "century"
    assert _message(err) == (
        f"The 7th digit of the IIN (century and sex) must be from 1 to 6; {digit} given."
    )


@pytest.mark.parametrize("month", ["00", "13", "99"])
def test_birth_date_month(month: str) -> None:
    err = _error(f"90{month}15300018")
    assert err.code == "birth_date"
    assert err.params == {"month": month}
    assert _message(err) == (
        f"The IIN does not contain a valid birth date: month {month} does not exist "
        "(digits 3–4 must be 01–12)."
    )


@pytest.mark.parametrize(
    ("prefix", "day", "month", "year", "days"),
    [
        ("900100", "00", "01", 1990, 31),
        ("900132", "32", "01", 1990, 31),
        ("900431", "31", "04", 1990, 30),
        ("000230", "30", "02", 2000, 29),
    ],
)
def test_birth_date_day(prefix: str, day: str, month: str, year: int, days: int) -> None:
    century = "5" if year >= 2000 else "3"
    err = _error(f"{prefix}{century}00018")
    assert err.code == "birth_date"
    assert _message(err) == (
        f"The IIN does not contain a valid birth date: day {day} does not exist in "
        f"{month}.{year} (that month has {days} days)."
    )


def test_leap_years() -> None:
    # 29 February exists in 2000, 1984, 2024 but not in 1900, 2023, 1800.
    for birth in (
        datetime.date(2000, 2, 29),
        datetime.date(1984, 2, 29),
        datetime.date(2024, 2, 29),
    ):
        iin = make_iin(birth, "F", 1) or make_iin(birth, "F", 2)
        assert iin is not None
        assert iin_birth_date(iin) == birth

    # Same "000229" digits: a leap day in 2000 (5/6) but not in 1900 (3/4) or 1800 (1/2).
    leap_2000 = make_iin(datetime.date(2000, 2, 29), "M", 1)
    assert leap_2000 is not None and leap_2000.startswith("0002295")
    for century_digit, year in (("3", 1900), ("4", 1900), ("1", 1800), ("2", 1800)):
        err = _error(f"000229{century_digit}00011")
        assert err.code == "birth_date"
        assert err.params["year"] == year
        assert err.params["days_in_month"] == 28

    err = _error("230229500011")
    assert err.code == "birth_date"
    assert err.params == {"day": "29", "month": "02", "year": 2023, "days_in_month": 28}


def test_future_birth_date() -> None:
    tomorrow = make_iin(datetime.date(2025, 6, 2), "M", 1)
    today = make_iin(datetime.date(2025, 6, 1), "M", 1)
    assert tomorrow is not None and today is not None

    err = _error(tomorrow, today=TODAY)
    assert err.code == "birth_date"
    assert _message(err) == "The birth date in the IIN, 02.06.2025, is in the future."
    assert validate_iin(today, today=TODAY) == today
    # Valid once that day has come.
    assert validate_iin(tomorrow, today=datetime.date(2025, 6, 2)) == tomorrow


def test_far_future_birth_date_rejected_by_default_today() -> None:
    iin = make_iin(datetime.date(2099, 1, 1), "F", 1)
    assert iin is not None
    assert not is_valid_iin(iin)
    with pytest.raises(IINError) as excinfo:
        iin_birth_date(iin)
    assert excinfo.value.code == "birth_date"


def test_error_order_prefers_most_specific_problem() -> None:
    # Non-digits are reported before a wrong length, century before date, date before checksum.
    assert _error("12A").code == "digits"
    assert _error("901315000000").code == "century"
    assert _error("901315300000").code == "birth_date"
    assert _error("900515300010").code == "checksum"


def test_helpers_reject_invalid() -> None:
    assert not is_valid_iin("900515300017", today=TODAY)
    assert not is_valid_iin("", today=TODAY)
    with pytest.raises(IINError):
        iin_sex("900515300017")
    assert iin_sex("900515300018") == "M"
    assert iin_birth_date("9005 1530 0018") == datetime.date(1990, 5, 15)


def test_error_is_value_error_with_lazy_template() -> None:
    err = _error("123")
    assert isinstance(err, ValueError)
    assert err.code == "length"
    assert err.template is not None and "%(count)s" in str(err.template)
