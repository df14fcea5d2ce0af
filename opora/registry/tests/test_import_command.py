"""`opora import_registry`: the summary an administrator reads, and the exit status scripts see."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from opora.registry.iin import make_iin
from opora.registry.models import ImportRun, RegistryRecord

pytestmark = pytest.mark.django_db

HEADER = "recipient_iin,last_name,first_name,patronymic,child_iin,relation,status"


def iins(birth: dt.date, count: int) -> list[str]:
    found = [v for s in range(count * 2) if (v := make_iin(birth, "F", s)) is not None]
    return found[:count]


PARENTS = iins(dt.date(1985, 3, 4), 60)
CHILD = iins(dt.date(2015, 5, 20), 1)[0]


def run(*args: str) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("import_registry", *args, stdout=out)
    return out.getvalue()


def test_summary_with_rejected_rows_exits_normally(tmp_path):
    path = tmp_path / "cbd.csv"
    path.write_text(
        f"{HEADER}\n"
        f"{PARENTS[0]},Иванова,Мария,,{CHILD},мать,active\n"
        f"{PARENTS[1]},Петрова,Анна,,{CHILD},мать,unknown\n",
        encoding="utf-8",
    )
    out = run("--source", "cbd", str(path))
    assert "Rows read: 2, loaded: 1, rejected: 1" in out
    assert "line 3: status: must be" in out
    assert "Петрова" not in out and PARENTS[1] not in out
    assert RegistryRecord.objects.count() == 1


def test_at_most_fifty_errors_are_printed(tmp_path):
    rows = [f"{p},Иванова,Мария,,{CHILD},мать,wrong" for p in PARENTS]
    path = tmp_path / "cbd.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    out = run("--source", "cbd", str(path))
    assert "rejected: 60" in out
    assert out.count("\nline ") == 50 and "line 51: " in out and "line 52: " not in out
    assert out.rstrip().endswith("... and 10 more")


def test_missing_columns_fail_with_a_non_zero_exit(tmp_path):
    path = tmp_path / "cbdi.csv"
    path.write_text("iin,last_name,first_name\n", encoding="utf-8")
    with pytest.raises(CommandError) as excinfo:
        run("--source", "cbdi", str(path))
    assert "patronymic, birth_date, category, valid_until" in str(excinfo.value)
    assert ImportRun.objects.get().status == "failed"


def test_missing_file_fails(tmp_path):
    with pytest.raises(CommandError):
        run("--source", "cbd", str(tmp_path / "nope.csv"))
    assert not ImportRun.objects.exists()


def test_unknown_source_is_refused(tmp_path):
    with pytest.raises(CommandError):
        run("--source", "xyz", str(tmp_path / "a.csv"))
