"""The embedded default: 20 threads on one SQLite file book one slot. IMMEDIATE transactions and
the busy timeout make writers queue: one booking, the rest Conflict, never "database is locked"."""

from opora.scheduling.tests.sqlite_subprocess import run_on_sqlite


def test_20_threads_one_slot_on_sqlite(tmp_path):
    result, stderr = run_on_sqlite("opora.scheduling.tests.sqlite_race", tmp_path)
    assert result["vendor"] == "sqlite"
    assert result["errors"] == []
    assert "database is locked" not in stderr
    assert result["booked"] == 1 and result["conflict"] == 19
    assert result["active_bookings"] == 1 and result["bookings"] == 1
    assert (tmp_path / "opora.sqlite3").exists()
