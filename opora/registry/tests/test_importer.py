"""Registry import: CSV dialects, row validation with line numbers, idempotent upsert, atomicity."""

import datetime as dt
import json
from pathlib import Path

import pytest
from django.db import connection
from django.utils import translation

from opora.core.models import AuditEvent
from opora.registry import importer
from opora.registry.iin import make_iin
from opora.registry.models import ImportRun, RegistryRecord, RegistrySource
from opora.registry.services import registry_import


def records(**match):
    """The registry rows (decrypted) whose values equal `match`: the IINs are sealed at rest."""
    return [
        r
        for r in RegistryRecord.objects.order_by("pk")
        if all(getattr(r, k) == v for k, v in match.items())
    ]


def record(**match):
    (found,) = records(**match)
    return found


def only_record():
    (found,) = RegistryRecord.objects.all()
    return found


def plain_values(*names):
    return [tuple(getattr(r, n) for n in names) for r in RegistryRecord.objects.order_by("pk")]


pytestmark = pytest.mark.django_db

CBD_HEADER = "recipient_iin,last_name,first_name,patronymic,child_iin,relation,status"
CBDI_HEADER = "iin,last_name,first_name,patronymic,birth_date,category,valid_until"


def iin(birth: dt.date, n: int = 0, sex: str = "F") -> str:
    """The n-th synthetic valid IIN born on `birth`."""
    found = -1
    for serial in range(10000):
        value = make_iin(birth, sex, serial)
        if value is not None:
            found += 1
            if found == n:
                return value
    raise AssertionError("no IIN")


def bad_checksum(value: str) -> str:
    return value[:11] + str((int(value[11]) + 1) % 10)


MOTHER = iin(dt.date(1985, 3, 4), 0, "F")
FATHER = iin(dt.date(1983, 7, 1), 0, "M")
CHILD = iin(dt.date(2015, 5, 20), 0, "M")
CHILD2 = iin(dt.date(2017, 1, 9), 1, "F")


def write(tmp_path: Path, text: str, name: str = "registry.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def cbd_file(tmp_path: Path, rows: list[str], *, sep: str = ",", bom: bool = False) -> Path:
    """A ЦБД file; `rows` are written with commas, which become `sep`."""
    text = "\n".join(line.replace(",", sep) for line in [CBD_HEADER, *rows]) + "\n"
    return write(tmp_path, ("\ufeff" if bom else "") + text)


def test_comma_cbd_file_is_loaded(tmp_path):
    path = cbd_file(
        tmp_path,
        [
            f"{MOTHER},Иванова,Мария,Петровна,{CHILD},мать,active",
            f"{FATHER},Иванов,Сергей,,{CHILD},отец,inactive",
        ],
    )
    run = registry_import(source="cbd", path=path)
    assert (run.status, run.rows_read, run.rows_loaded, run.rows_rejected) == ("done", 2, 2, 0)
    assert run.finished_at is not None and run.file_name == "registry.csv"
    mother = record(source="cbd", iin=MOTHER)
    assert (mother.child_iin, mother.last_name, mother.first_name, mother.patronymic) == (
        CHILD,
        "Иванова",
        "Мария",
        "Петровна",
    )
    assert (mother.relation, mother.status) == ("мать", "active")
    father = record(source="cbd", iin=FATHER)
    assert father.patronymic == "" and father.status == "inactive"
    event = AuditEvent.objects.get(event_type="registry.imported")
    assert event.extra == {"source": "cbd", "rows_read": 2, "rows_loaded": 2, "rows_rejected": 0}


def test_semicolon_file_with_bom_and_quoted_fields(tmp_path):
    path = cbd_file(
        tmp_path,
        [f'{MOTHER};"Әбдірахманова";"Айгүл";"Серікқызы";{CHILD};"мать; опекун";ACTIVE'],
        sep=";",
        bom=True,
    )
    run = registry_import(source="cbd", path=path)
    assert (run.status, run.rows_loaded, run.rows_rejected) == ("done", 1, 0), run.errors
    record = only_record()
    assert record.last_name == "Әбдірахманова" and record.relation == "мать; опекун"
    assert record.status == "active"


def test_cbdi_file_dates_and_indefinite_validity(tmp_path):
    path = write(
        tmp_path,
        "\ufeff"
        + CBDI_HEADER.replace(",", ";")
        + "\n"
        + f"{CHILD};Иванов;Пётр;;2015-05-20;ребенок-инвалид;2027-05-31\n"
        + f"{CHILD2};Сейтқали;Әлия;Ерланқызы;2017-01-09;ребенок-инвалид;\n",
    )
    run = registry_import(source="cbdi", path=path)
    assert (run.status, run.rows_loaded) == ("done", 2), run.errors
    first = record(iin=CHILD)
    assert first.source == "cbdi" and first.child_iin == "" and first.status == ""
    assert first.birth_date == dt.date(2015, 5, 20) and first.valid_until == dt.date(2027, 5, 31)
    assert first.patronymic == "" and first.category == "ребенок-инвалид"
    assert record(iin=CHILD2).valid_until is None
    # The dates are sealed with the rest of the row: no column holds them in clear.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM registry_registryrecord WHERE id = %s", [first.pk])
        stored = dict(zip([c[0] for c in cursor.description], cursor.fetchone(), strict=True))
    assert "birth_date" not in stored and "valid_until" not in stored
    assert not any("2015-05-20" in str(v) or "2027" in str(v) for v in stored.values())


def test_columns_in_another_order_and_extra_columns(tmp_path):
    path = write(
        tmp_path,
        "status,child_iin,comment,recipient_iin,first_name,last_name,patronymic,relation\n"
        f"active,{CHILD},что угодно,{MOTHER},Мария,Иванова,Петровна,мать\n",
    )
    run = registry_import(source="cbd", path=path)
    assert run.rows_loaded == 1, run.errors
    assert only_record().last_name == "Иванова"


def test_bad_rows_are_reported_by_line_and_reason_and_good_rows_kept(tmp_path):
    wrong = bad_checksum(MOTHER)
    path = cbd_file(
        tmp_path,
        [
            f"{MOTHER},Иванова,Мария,Петровна,{CHILD},мать,active",  # line 2, good
            f"{wrong},Петрова,Анна,,{CHILD2},мать,active",  # 3: bad IIN
            f"{FATHER},Иванов,Сергей,,{CHILD},отец,paused",  # 4: bad status
            "",  # 5: blank, skipped
            f"{FATHER},,Сергей,,{CHILD},отец,active",  # 6: no last name
            f"{FATHER},Иванов,Сергей,{CHILD},отец,active",  # 7: a field missing
            f"{FATHER},Иванов,Сергей,,12345,отец,active",  # 8: short child IIN
            f"{FATHER},Иванов,Сергей,,{CHILD2},отец,active",  # 9: good
        ],
    )
    with translation.override("en"):
        run = registry_import(source="cbd", path=path)
    assert (run.status, run.rows_read, run.rows_loaded, run.rows_rejected) == ("done", 7, 2, 5)
    lines = [e["line"] for e in run.errors]
    assert lines == [3, 4, 6, 7, 8]
    reasons = {e["line"]: e["reason"] for e in run.errors}
    assert reasons[3].startswith("recipient_iin: ") and "control digit" in reasons[3]
    assert reasons[4].startswith("status:")
    assert reasons[6] == "last_name: the name is empty"
    assert "expected 7 fields, found 6" in reasons[7]
    assert reasons[8].startswith("child_iin: ") and "12 digits" in reasons[8]
    assert set(plain_values("iin", "child_iin")) == {
        (MOTHER, CHILD),
        (FATHER, CHILD2),
    }
    # The report never repeats the row's personal data.
    stored = json.dumps(run.errors, ensure_ascii=False)
    assert wrong not in stored and "Петрова" not in stored and "12345" not in stored


def test_bad_dates_in_cbdi(tmp_path):
    path = write(
        tmp_path,
        CBDI_HEADER
        + "\n"
        + f"{CHILD},Иванов,Пётр,,20.05.2015,ребенок-инвалид,\n"
        + f"{CHILD2},Иванова,Анна,,2017-01-09,ребенок-инвалид,2027-02-30\n"
        + f"{MOTHER},Петрова,Анна,,,ребенок-инвалид,\n",
    )
    with translation.override("en"):
        run = registry_import(source="cbdi", path=path)
    assert run.rows_loaded == 0 and run.rows_rejected == 3
    assert run.errors == [
        {"line": 2, "reason": "birth_date: not a date in the YYYY-MM-DD format"},
        {"line": 3, "reason": "valid_until: not a date in the YYYY-MM-DD format"},
        {"line": 4, "reason": "birth_date: the date is empty"},
    ]


def test_iin_errors_never_quote_the_number(tmp_path):
    future = iin(dt.date(2099, 1, 1))
    path = cbd_file(
        tmp_path,
        [
            f"{future},Иванова,Мария,,{CHILD},мать,active",
            f"85O304401231,Иванова,Мария,,{CHILD},мать,active",
        ],
    )
    with translation.override("en"):
        run = registry_import(source="cbd", path=path)
    assert [e["reason"] for e in run.errors] == [
        "recipient_iin: the IIN does not contain a valid birth date",
        "recipient_iin: the IIN may contain only the digits 0–9",
    ]


def test_header_without_required_columns_fails_and_keeps_previous_data(tmp_path):
    good = cbd_file(tmp_path, [f"{MOTHER},Иванова,Мария,Петровна,{CHILD},мать,active"])
    assert registry_import(source="cbd", path=good).status == "done"
    bad = write(
        tmp_path,
        f"recipient_iin,last_name,first_name,child_iin\n{MOTHER},Другая,Фамилия,{CHILD}\n",
        "bad.csv",
    )
    with translation.override("en"):
        run = registry_import(source="cbd", path=bad)
    assert run.status == ImportRun.Status.FAILED and run.rows_loaded == 0
    assert run.errors == [
        {
            "line": 1,
            "reason": "The header lacks the required columns: patronymic, relation, status.",
        }
    ]
    assert only_record().last_name == "Иванова"
    assert AuditEvent.objects.filter(event_type="registry.import_failed").count() == 1


def test_failure_mid_way_rolls_back_and_keeps_previous_data(tmp_path, monkeypatch):
    first = cbd_file(
        tmp_path,
        [
            f"{MOTHER},Иванова,Мария,Петровна,{CHILD},мать,active",
            f"{FATHER},Иванов,Сергей,,{CHILD},отец,inactive",
        ],
    )
    assert registry_import(source="cbd", path=first).rows_loaded == 2
    before = sorted(plain_values("iin", "last_name", "status", "updated_at"))

    # Small batches so that some rows have reached the database before the failure.
    monkeypatch.setattr(importer, "EXECUTEMANY_BATCH_ROWS", 1)
    monkeypatch.setattr(importer, "COPY_BATCH_ROWS", 1)
    real_build = importer._BUILDERS[RegistrySource.CBD]
    calls = {"n": 0}

    def failing_build(row, idx, today, check):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real_build(row, idx, today, check)

    monkeypatch.setitem(importer._BUILDERS, "cbd", failing_build)
    monkeypatch.setattr(importer, "_FAST_BUILDERS", {})  # every row through failing_build
    second = cbd_file(
        tmp_path,
        [
            f"{MOTHER},Сидорова,Мария,Петровна,{CHILD},мать,inactive",
            f"{FATHER},Иванов,Сергей,,{CHILD},отец,active",
            f"{FATHER},Иванов,Сергей,,{CHILD2},отец,active",
        ],
    )
    with translation.override("en"):
        run = registry_import(source="cbd", path=second)
    run.refresh_from_db()
    assert run.status == "failed" and run.rows_loaded == 0 and run.finished_at is not None
    assert run.errors[0] == {
        "line": None,
        "reason": "The database rejected the import; no records were changed.",
    }
    after = sorted(plain_values("iin", "last_name", "status", "updated_at"))
    assert after == before


def test_reimport_is_idempotent_and_applies_updates(tmp_path):
    rows = [
        f"{MOTHER},Иванова,Мария,Петровна,{CHILD},мать,active",
        f"{FATHER},Иванов,Сергей,,{CHILD},отец,active",
    ]
    path = cbd_file(tmp_path, rows)
    first = registry_import(source="cbd", path=path)
    stamps = dict(plain_values("iin", "updated_at"))
    again = registry_import(source="cbd", path=path)
    assert (again.rows_read, again.rows_loaded, again.rows_rejected) == (
        first.rows_read,
        first.rows_loaded,
        first.rows_rejected,
    )
    assert RegistryRecord.objects.count() == 2
    # Unchanged rows are not rewritten.
    assert dict(plain_values("iin", "updated_at")) == stamps

    changed = cbd_file(
        tmp_path,
        [
            f"{MOTHER},Иванова,Мария,Петровна,{CHILD},мать,inactive",
            f"{FATHER},Иванов,Сергей,Олегович,{CHILD},отец,active",
            f"{FATHER},Иванов,Сергей,Олегович,{CHILD2},отец,active",
        ],
        sep=";",
    )
    registry_import(source="cbd", path=changed)
    assert RegistryRecord.objects.count() == 3
    assert record(iin=MOTHER).status == "inactive"
    assert record(iin=FATHER, child_iin=CHILD).patronymic == "Олегович"
    assert record(iin=MOTHER).updated_at >= stamps[MOTHER]


def test_same_key_twice_in_a_file_last_row_wins(tmp_path):
    path = cbd_file(
        tmp_path,
        [
            f"{MOTHER},Иванова,Мария,Петровна,{CHILD},мать,inactive",
            f"{FATHER},Иванов,Сергей,,{CHILD},отец,active",
            f"{MOTHER},Иванова,Мария,Петровна,{CHILD},мать,active",
        ],
    )
    run = registry_import(source="cbd", path=path)
    assert run.status == "done" and run.rows_loaded == 3
    assert RegistryRecord.objects.count() == 2
    assert record(iin=MOTHER).status == "active"


def test_sources_are_separate(tmp_path):
    registry_import(
        source="cbd", path=cbd_file(tmp_path, [f"{MOTHER},Иванова,Мария,,{CHILD},мать,active"])
    )
    registry_import(
        source="cbdi",
        path=write(tmp_path, f"{CBDI_HEADER}\n{CHILD},Иванов,Пётр,,2015-05-20,,\n", "i.csv"),
    )
    assert sorted(plain_values("source", "iin", "child_iin")) == [
        ("cbd", MOTHER, CHILD),
        ("cbdi", CHILD, ""),
    ]


def test_errors_are_capped_but_all_counted(tmp_path):
    bad = [f"{MOTHER},Иванова,Мария,,{CHILD},мать,unknown"] * 1005
    path = cbd_file(tmp_path, [*bad, f"{MOTHER},Иванова,Мария,,{CHILD},мать,active"])
    run = registry_import(source="cbd", path=path)
    assert (run.rows_read, run.rows_loaded, run.rows_rejected) == (1006, 1, 1005)
    assert len(run.errors) == 1000 and run.errors[-1]["line"] == 1001


def test_file_that_is_not_utf8_fails(tmp_path):
    path = write(
        tmp_path,
        f"{CBD_HEADER}\n{MOTHER},Иванова,Мария,,{CHILD},мать,active\n",
        encoding="cp1251",
    )
    with translation.override("en"):
        run = registry_import(source="cbd", path=path)
    assert run.status == "failed"
    assert run.errors[0]["reason"].startswith("The file is not UTF-8 text")
    assert not RegistryRecord.objects.exists()


def test_empty_file_fails(tmp_path):
    run = registry_import(source="cbd", path=write(tmp_path, ""))
    assert run.status == "failed" and run.errors[0]["line"] == 1


def test_long_name_is_a_row_error_not_a_database_failure(tmp_path):
    path = cbd_file(
        tmp_path,
        [
            f"{MOTHER},{'Я' * 151},Мария,,{CHILD},мать,active",
            f"{FATHER},Иванов,Сергей,,{CHILD},отец,active",
        ],
    )
    with translation.override("en"):
        run = registry_import(source="cbd", path=path)
    assert run.status == "done" and run.rows_loaded == 1
    assert run.errors == [{"line": 2, "reason": "last_name: longer than 150 characters"}]


def test_postgresql_copy_path(tmp_path, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("COPY into a staging table exists only on PostgreSQL (DATABASE_URL unset).")
    used = []
    real = importer._load_postgresql

    def spy(rows, *, source):
        used.append(source)
        return real(rows, source=source)

    monkeypatch.setattr(importer, "_load_postgresql", spy)
    monkeypatch.setattr(importer, "COPY_BATCH_ROWS", 7)  # several batches
    children = [iin(dt.date(2016, 2, 2), n) for n in range(25)]
    rows = [f"{MOTHER},Иванова,Мария,Петровна,{c},мать,active" for c in children]
    rows.append(f"{MOTHER},Иванова,Мария,Петровна,{children[0]},мать,inactive")  # last wins
    run = registry_import(source="cbd", path=cbd_file(tmp_path, rows))
    assert used == ["cbd"]
    assert (run.status, run.rows_read, run.rows_loaded) == ("done", 26, 26)
    assert len(records(iin=MOTHER)) == 25
    assert record(child_iin=children[0]).status == "inactive"
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('pg_temp.opora_registry_import_stage')")
        assert cursor.fetchone()[0] is None  # the staging table is gone

    # Re-import through COPY: no duplicates, changes applied.
    rows[-1] = f"{MOTHER},Иванова,Мария,Петровна,{children[0]},мать,active"
    run = registry_import(source="cbd", path=cbd_file(tmp_path, rows))
    assert run.status == "done"
    assert RegistryRecord.objects.count() == 25
    assert record(child_iin=children[0]).status == "active"


def _registry_indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'registry_registryrecord'"
        )
        return {row[0] for row in cursor.fetchall()}


def test_first_load_into_an_empty_registry_rebuilds_indexes_and_keeps_last_row(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("The bulk path of a first load exists only on PostgreSQL.")
    indexes = _registry_indexes()
    assert {"registry_child_iin_idx", "registry_record_natural_key"} <= indexes
    rows = [
        f"{MOTHER},Иванова,Мария,Петровна,{CHILD},мать,active",
        f"{MOTHER},Иванова,Мария,Петровна,{CHILD2},мать,active",
        f"{MOTHER},Иванова,Мария,Петровна,{CHILD},мать,inactive",  # the same key again: last wins
    ]
    run = registry_import(source="cbd", path=cbd_file(tmp_path, rows))
    assert (run.status, run.rows_loaded) == ("done", 3)
    assert RegistryRecord.objects.count() == 2
    assert record(child_iin=CHILD).status == "inactive"
    assert _registry_indexes() == indexes


def test_failed_first_load_restores_the_indexes(tmp_path, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("The bulk path of a first load exists only on PostgreSQL.")
    indexes = _registry_indexes()
    real = importer._drop_indexes_if_empty

    def drop_then_fail(cursor, table):
        return [*real(cursor, table), "SELECT 1 / 0"]  # fails after the rows are in

    monkeypatch.setattr(importer, "_drop_indexes_if_empty", drop_then_fail)
    rows = [f"{MOTHER},Иванова,Мария,Петровна,{CHILD},мать,active"]
    run = registry_import(source="cbd", path=cbd_file(tmp_path, rows))
    assert run.status == "failed"
    assert RegistryRecord.objects.count() == 0
    assert _registry_indexes() == indexes


def test_fast_iin_check_agrees_with_the_validator():
    """The import's table-driven check says yes exactly when validate_iin accepts the number."""
    import random

    from opora.registry.iin import IINError, validate_iin

    today = dt.date(2026, 11, 24)
    check = importer.fast_iin_checker(today)
    rng = random.Random(11)
    values = [iin(dt.date(1990, 1, 1) + dt.timedelta(days=rng.randrange(15000)), n) for n in (0, 1)]
    values += [
        make_iin(dt.date(1950, 1, 1) + dt.timedelta(days=d), "M", d % 10000) or ""
        for d in range(3000)
    ]
    values += [bad_checksum(v) for v in values if v]
    values += ["".join(rng.choice("0123456789") for _ in range(12)) for _ in range(20000)]
    values += [
        make_iin(dt.date(2026, 12, 1), "F", 1) or "",  # born after `today`
        "850304 400123",
        "85030440012",
        "8503044001234",
        "８５０３０４４００１２３",  # full-width digits
        "850304700123",  # 7th digit 7
        "",
    ]
    accepted = 0
    for value in filter(None, values):
        try:
            expected = validate_iin(value, today=today) == value
        except IINError:
            expected = False
        assert check(value) is expected, value
        accepted += expected
    assert 3000 < accepted < len(values) - 20000  # both answers were exercised


def test_fast_row_path_matches_the_full_one():
    """A ЦБД row that the fast path takes gives the record the full path gives; others fall
    through (None) to the full path."""
    today = dt.date(2026, 11, 24)
    check = importer.fast_iin_checker(today)
    idx = tuple(range(7))
    fast = importer._cbd_fast(idx, check)
    rows = [
        [MOTHER, " Иванова ", "Мария", "", CHILD, "мать", "active"],
        [FATHER, "Иванов", "Сергей", "Петрович", CHILD2, "", "inactive"],
    ]
    for row in rows:
        assert fast(row) == importer._cbd_record(row, idx, today, check)
    for row in (
        [MOTHER, "Иванова", "Мария", "", CHILD, "мать", " Active"],  # normalised by the full path
        [MOTHER[:6] + " " + MOTHER[6:], "Иванова", "Мария", "", CHILD, "мать", "active"],
        [MOTHER, "", "Мария", "", CHILD, "мать", "active"],
        [MOTHER, "Иванова", "Мария", "", MOTHER, "мать", "active"],
        [bad_checksum(MOTHER), "Иванова", "Мария", "", CHILD, "мать", "active"],
        [MOTHER, "И" * 151, "Мария", "", CHILD, "мать", "active"],
    ):
        assert fast(row) is None


@pytest.mark.parametrize("first_load", [True, False])
def test_names_with_csv_and_copy_special_characters(tmp_path, first_load):
    """Commas, quotes, backslashes, tabs and line breaks in a name survive the COPY; empty
    optional fields are empty strings and the dates of a ЦБД row are NULL."""
    if not first_load:
        registry_import(source="cbd", path=cbd_file(tmp_path, [f"{FATHER},А,Б,,{CHILD2},,active"]))
    names = ['Ив"анова, мл.', "Back\\slash", "Tab\there", "Line\nbreak", "\\."]
    rows = [
        f'{MOTHER},"{names[0].replace(chr(34), chr(34) * 2)}",Мария,,{CHILD},,active',
        f"{FATHER},{names[1]},{names[2]},,{CHILD},отец,inactive",
        f'{iin(dt.date(1980, 1, 1))},"{names[3]}",{names[4]},П,{CHILD},мать,active',
    ]
    text = "\n".join([CBD_HEADER, *rows]) + "\n"
    run = registry_import(source="cbd", path=write(tmp_path, text))
    assert (run.status, run.rows_rejected) == ("done", 0), run.errors
    mother = record(iin=MOTHER)
    assert mother.last_name == 'Ив"анова, мл.'
    assert (mother.patronymic, mother.relation, mother.category) == ("", "", "")
    assert mother.birth_date is None and mother.valid_until is None
    father = record(iin=FATHER, child_iin=CHILD)
    assert (father.last_name, father.first_name) == ("Back\\slash", "Tab\there")
    third = record(child_iin=CHILD, relation="мать", patronymic="П")
    assert (third.last_name, third.first_name) == ("Line\nbreak", "\\.")


# --- the parallel path of a large file ------------------------------------------------------------


def _rows_of_every_kind(n: int) -> list[str]:
    """`n` rows of a ЦБД file, with a bad row, a short row and a blank line now and then."""
    out = []
    for k in range(n):
        child = iin(dt.date(2010, 1, 1) + dt.timedelta(days=k), 0, "M")
        if k % 17 == 5:
            out.append(f"{bad_checksum(MOTHER)},Иванова,Мария,,{child},мать,active")
        elif k % 23 == 7:
            out.append(f"{MOTHER},Иванова,Мария,{child},мать,active")  # a field short
        elif k % 29 == 3:
            out.append("")
        else:
            rel = "мать\\опекун\tтоже" if k % 11 == 0 else "мать"  # COPY's special characters
            out.append(f"{MOTHER},Иванова {k},Мария,Петровна,{child},{rel},active")
    return out


def _blocks(path, workers, monkeypatch, **sizes):
    monkeypatch.setattr(importer, "PARALLEL_MIN_BYTES", sizes.get("min_bytes", 0))
    monkeypatch.setattr(importer, "CHUNK_BYTES", sizes.get("chunk", 700))
    stats = importer.ImportStats()
    blocks = importer.copy_blocks(
        path, source="cbd", stats=stats, today=dt.date(2026, 12, 6), workers=workers
    )
    return b"".join(blocks), stats


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
@pytest.mark.parametrize("quote_at", [None, 150])
def test_worker_processes_give_what_one_process_gives(tmp_path, monkeypatch, line_end, quote_at):
    """Chunks sealed by two worker processes: the same COPY data, counts, rejects and line
    numbers as one process; from a chunk with a quote on, one process reads the rest."""
    rows = _rows_of_every_kind(300)
    if quote_at is not None:
        rows[quote_at] = f'{MOTHER},"Иванова, ""Кавычка""\nс переносом",Мария,,{CHILD},мать,active'
    path = write(tmp_path, "\ufeff" + line_end.join([CBD_HEADER, *rows]) + line_end)
    with translation.override("en"):  # the workers answer in the caller's language
        serial, serial_stats = _blocks(path, 0, monkeypatch)
        parallel, stats = _blocks(path, 2, monkeypatch)
    assert parallel == serial
    assert stats == serial_stats
    assert stats.rows_loaded > 250 and stats.rows_rejected > 20
    lines = [e["line"] for e in stats.errors]
    assert lines[:3] == [7, 9, 24] and lines == sorted(lines)
    assert stats.errors[0]["reason"].startswith("recipient_iin: The IIN control digit")
    # Large enough to be parallel, yet read in one process where a worker may not fork.
    assert importer.import_workers() >= 0
    same, _stats = _blocks(path, 2, monkeypatch, min_bytes=1 << 30)
    assert same == serial


def test_a_chunk_that_is_not_utf8_fails_the_import_in_one_process(tmp_path, monkeypatch):
    rows = _rows_of_every_kind(200)
    data = "\n".join([CBD_HEADER, *rows]).encode() + b"\n"
    cut = len(data) // 2
    path = tmp_path / "bad.csv"
    path.write_bytes(data[:cut] + "й".encode("cp1251") + data[cut:])
    with translation.override("en"):
        for workers in (0, 2):
            with pytest.raises(importer.ImportFailed, match="not UTF-8 text"):
                _blocks(path, workers, monkeypatch)


def test_a_large_file_sealed_by_workers_is_imported(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(importer, "CHUNK_BYTES", 900)
    monkeypatch.setattr(importer, "import_workers", lambda: 2)
    rows = _rows_of_every_kind(120)
    with translation.override("en"):
        run = registry_import(source="cbd", path=cbd_file(tmp_path, rows))
    assert run.status == "done" and run.rows_rejected > 5
    assert run.rows_loaded == RegistryRecord.objects.count() > 100
    assert [e["line"] for e in run.errors][:3] == [7, 9, 24]
    eleventh = record(last_name="Иванова 11")
    assert (eleventh.iin, eleventh.relation, eleventh.status) == (
        MOTHER,
        "мать\\опекун\tтоже",
        "active",
    )
    # Again: nothing changed, nothing written.
    before = plain_values("sealed", "updated_at")
    again = registry_import(source="cbd", path=cbd_file(tmp_path, rows))
    assert again.rows_loaded == run.rows_loaded
    assert plain_values("sealed", "updated_at") == before
