# ruff: noqa: S608 - the SQL below is built from constant identifiers only; values are parameters.
"""Streaming import of ЦБД/ЦБДИ CSV files into RegistryRecord.

The file is read once, row by row; each row is validated and either rejected (line number and reason,
never its content: it is personal data) or passed on to the database without building model instances.
PostgreSQL gets the rows through `COPY` into a temporary staging table and one upsert; other databases
get batched `executemany` upserts. The caller owns the transaction (see services.registry_import).
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import functools
import io
import multiprocessing
import os
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from opora.registry.iin import _WEIGHTS_1, _WEIGHTS_2, IINError, _birth_prefix_ok, validate_iin
from opora.registry.models import NAME_MAX, SHORT_MAX, RegistryRecord, RegistrySource
from opora.registry.sealing import copy_line_sealer, seal_records

MAX_STORED_ERRORS = 1000
COPY_BATCH_ROWS = 50_000
EXECUTEMANY_BATCH_ROWS = 5_000

COLUMNS: dict[str, tuple[str, ...]] = {
    RegistrySource.CBD: (
        "recipient_iin",
        "last_name",
        "first_name",
        "patronymic",
        "child_iin",
        "relation",
        "status",
    ),
    RegistrySource.CBDI: (
        "iin",
        "last_name",
        "first_name",
        "patronymic",
        "birth_date",
        "category",
        "valid_until",
    ),
}

# The order of the tuples the readers yield and the loaders write.
RECORD_COLUMNS = (
    "iin",
    "child_iin",
    "last_name",
    "first_name",
    "patronymic",
    "relation",
    "status",
    "birth_date",
    "category",
    "valid_until",
)
# The columns the loaders write (registry.sealing turns a record into these; the two dates are
# sealed with the IINs and names).
DB_COLUMNS = ("iin_bidx", "child_iin_bidx", "sealed", "relation", "status")
_UPDATED_COLUMNS = DB_COLUMNS[2:]

_NAME_MAX = NAME_MAX
_SHORT_MAX = SHORT_MAX
_CBD_STATUSES = frozenset({"active", "inactive"})


# --- the IIN check of a bulk import ---------------------------------------------------------------
#
# The control digit is a weighted sum of the first 11 digits modulo 11 (opora.registry.iin). An
# import checks two IINs per row, a million rows at a time: the sums of the 7-digit birth prefix
# (few distinct values in a file) and of the 4-digit serial (10,000 values) are looked up instead
# of computed, which makes the check about twice as fast as opora.registry.iin.iin_checker.


def _digit_sums(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True))


@functools.cache
def _serial_sums() -> dict[str, tuple[int, int]]:
    """Digits 8–11 → their part of the two weighted sums."""
    w1, w2 = _WEIGHTS_1[7:11], _WEIGHTS_2[7:11]
    return {
        serial: (_digit_sums(serial, w1), _digit_sums(serial, w2))
        for serial in (f"{n:04d}" for n in range(10_000))
    }


def fast_iin_checker(today: dt.date) -> Callable[[str], bool]:
    """A yes/no test for clean 12-digit IINs, True only for a valid one (as `validate_iin` says
    on `today`); on False call `validate_iin` for the reason."""
    serials = _serial_sums()
    w1, w2 = _WEIGHTS_1[:7], _WEIGHTS_2[:7]
    prefixes: dict[str, tuple[int, int] | None] = {}

    def check(value: str) -> bool:
        if len(value) != 12 or not value.isascii() or not value.isdigit():
            return False
        prefix = value[:7]
        try:
            sums = prefixes[prefix]
        except KeyError:
            ok = _birth_prefix_ok(prefix, today)
            sums = prefixes[prefix] = (
                (_digit_sums(prefix, w1), _digit_sums(prefix, w2)) if ok else None
            )
        if sums is None:
            return False
        serial = serials[value[7:11]]
        digit = (sums[0] + serial[0]) % 11
        if digit == 10:
            digit = (sums[1] + serial[1]) % 11
            if digit == 10:
                return False  # no control digit exists: never issued
        return digit == ord(value[11]) - 48

    return check


class ImportFailed(Exception):
    """The file as a whole cannot be imported (unreadable, not UTF-8, header lacks columns)."""

    def __init__(self, reason: str, *, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


class _RowError(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


@dataclass
class ImportStats:
    rows_read: int = 0
    rows_rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        return self.rows_read - self.rows_rejected

    def reject(self, line: int, reason: str) -> None:
        self.rows_rejected += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append({"line": line, "reason": reason})

    def merge(self, later: ImportStats) -> None:
        """Add the counts of the rows that follow (a chunk read by another process)."""
        self.rows_read += later.rows_read
        self.rows_rejected += later.rows_rejected
        self.errors += later.errors[: MAX_STORED_ERRORS - len(self.errors)]


# --- reading ------------------------------------------------------------------------------------


def _iin_reason(column: str, err: IINError) -> str:
    # Messages that quote parts of the number (its date, its characters) are replaced by ones that
    # do not: an import report must not carry personal data.
    generic: dict[str, str | Promise] = {
        "empty": _("the IIN is empty"),
        "digits": _("the IIN may contain only the digits 0–9"),
        "century": _("the 7th digit of the IIN (century and sex) must be from 1 to 6"),
        "birth_date": _("the IIN does not contain a valid birth date"),
    }
    return f"{column}: {generic.get(err.code) or err.message}"


def _iin(value: str, column: str, today: dt.date, check: Callable[[str], bool]) -> str:
    if check(value):
        return value
    try:
        return validate_iin(value, today=today)
    except IINError as err:
        raise _RowError(_iin_reason(column, err)) from None


def _name(value: str, column: str, *, required: bool = True) -> str:
    value = value.strip()
    if not value and required:
        raise _RowError(_("%(column)s: the name is empty") % {"column": column})
    if len(value) > _NAME_MAX:
        raise _RowError(
            _("%(column)s: longer than %(max)d characters") % {"column": column, "max": _NAME_MAX}
        )
    return value


def _short(value: str, column: str) -> str:
    value = value.strip()
    if len(value) > _SHORT_MAX:
        raise _RowError(
            _("%(column)s: longer than %(max)d characters") % {"column": column, "max": _SHORT_MAX}
        )
    return value


def _date(value: str, column: str, *, required: bool) -> dt.date | None:
    value = value.strip()
    if not value:
        if required:
            raise _RowError(_("%(column)s: the date is empty") % {"column": column})
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _RowError(
            _("%(column)s: not a date in the YYYY-MM-DD format") % {"column": column}
        ) from None


def _cbd_record(
    row: list[str], idx: tuple[int, ...], today: dt.date, check: Callable[[str], bool]
) -> tuple:
    i_iin, i_last, i_first, i_patr, i_child, i_rel, i_status = idx
    iin = _iin(row[i_iin], "recipient_iin", today, check)
    child_iin = _iin(row[i_child], "child_iin", today, check)
    if child_iin == iin:
        raise _RowError(_("child_iin: equals recipient_iin"))
    status = row[i_status].strip().lower()
    if status not in _CBD_STATUSES:
        raise _RowError(_("status: must be “active” or “inactive”"))
    return (
        iin,
        child_iin,
        _name(row[i_last], "last_name"),
        _name(row[i_first], "first_name"),
        _name(row[i_patr], "patronymic", required=False),
        _short(row[i_rel], "relation"),
        status,
        None,
        "",
        None,
    )


def _cbdi_record(
    row: list[str], idx: tuple[int, ...], today: dt.date, check: Callable[[str], bool]
) -> tuple:
    i_iin, i_last, i_first, i_patr, i_birth, i_cat, i_valid = idx
    return (
        _iin(row[i_iin], "iin", today, check),
        "",
        _name(row[i_last], "last_name"),
        _name(row[i_first], "first_name"),
        _name(row[i_patr], "patronymic", required=False),
        "",
        "",
        _date(row[i_birth], "birth_date", required=True),
        _short(row[i_cat], "category"),
        _date(row[i_valid], "valid_until", required=False),
    )


def _cbd_fast(
    idx: tuple[int, ...], check: Callable[[str], bool]
) -> Callable[[list[str]], tuple | None]:
    """The common case of a ЦБД row, checked inline: its record, or None when anything about
    the row needs the full path (which normalises what it can and names the problem)."""
    i_iin, i_last, i_first, i_patr, i_child, i_rel, i_status = idx
    name_max, short_max = _NAME_MAX, _SHORT_MAX

    def fast(row: list[str]) -> tuple | None:
        iin, child_iin, status = row[i_iin], row[i_child], row[i_status]
        if status != "active" and status != "inactive":
            return None
        if iin == child_iin or not check(iin) or not check(child_iin):
            return None
        last, first = row[i_last].strip(), row[i_first].strip()
        patronymic, relation = row[i_patr].strip(), row[i_rel].strip()
        if (
            not last
            or not first
            or len(last) > name_max
            or len(first) > name_max
            or len(patronymic) > name_max
            or len(relation) > short_max
        ):
            return None
        return (iin, child_iin, last, first, patronymic, relation, status, None, "", None)

    return fast


_BUILDERS = {RegistrySource.CBD: _cbd_record, RegistrySource.CBDI: _cbdi_record}
_FAST_BUILDERS = {RegistrySource.CBD: _cbd_fast}


def sniff_delimiter(header_line: str) -> str:
    """Semicolon when the header has more semicolons than commas (spreadsheet exports), else comma."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


@dataclass(frozen=True)
class Layout:
    """What a file's header says: the delimiter and where the required columns are."""

    source: str
    delimiter: str
    idx: tuple[int, ...]
    ncols: int


def read_header(header_line: str, *, source: str) -> Layout:
    """The layout of a file with this first line; ImportFailed when it lacks required columns."""
    if not header_line.strip():
        raise ImportFailed(_("The file is empty or its first line is not a header."), line=1)
    delimiter = sniff_delimiter(header_line)
    header = [
        name.strip().lstrip("\ufeff").lower()
        for name in next(csv.reader([header_line], delimiter=delimiter))
    ]
    required = COLUMNS[source]
    missing = [name for name in required if name not in header]
    if missing:
        raise ImportFailed(
            _("The header lacks the required columns: %(columns)s.")
            % {"columns": ", ".join(missing)},
            line=1,
        )
    return Layout(source, delimiter, tuple(header.index(name) for name in required), len(header))


def read_records(
    lines: Iterator[str], *, source: str, stats: ImportStats, today: dt.date
) -> Iterator[tuple]:
    """Yield one tuple (in RECORD_COLUMNS order) per valid data row; count and report the others.

    `lines` is a text file opened with newline="" (the csv module's requirement). Raises
    ImportFailed when the header lacks required columns or the file is not UTF-8 CSV.
    """
    try:
        header_line = next(lines, "")
    except UnicodeDecodeError:
        raise ImportFailed(_("The file is not UTF-8 text."), line=1) from None
    layout = read_header(header_line, source=source)
    yield from read_rows(lines, layout=layout, stats=stats, today=today, first_line=2)


def read_rows(
    lines: Iterable[str],
    *,
    layout: Layout,
    stats: ImportStats,
    today: dt.date,
    first_line: int,
    check: Callable[[str], bool] | None = None,
) -> Iterator[tuple]:
    """`read_records` after the header: `lines` begin with line `first_line` of the file, at the
    start of a row."""
    idx, ncols = layout.idx, layout.ncols
    kind = RegistrySource(layout.source)
    build = _BUILDERS[kind]
    check = check or fast_iin_checker(today)
    fast = _FAST_BUILDERS[kind](idx, check) if kind in _FAST_BUILDERS else None
    reader = csv.reader(lines, delimiter=layout.delimiter)
    # The lines before these were read before the csv reader started counting.
    base = prev_end = first_line - 1
    try:
        for row in reader:
            start, prev_end = prev_end + 1, base + reader.line_num
            if not row:
                continue  # a blank line is not a row
            stats.rows_read += 1
            if fast is not None and len(row) == ncols:
                record = fast(row)
                if record is not None:
                    yield record
                    continue
            try:
                if len(row) != ncols:
                    raise _RowError(
                        _(
                            "expected %(expected)d fields, found %(found)d; check the delimiter and quotes"
                        )
                        % {"expected": ncols, "found": len(row)}
                    )
                yield build(row, idx, today, check)
            except _RowError as err:
                stats.reject(start, err.reason)
    except UnicodeDecodeError:
        raise ImportFailed(
            _("The file is not UTF-8 text (near line %(line)d).") % {"line": prev_end + 1},
            line=prev_end + 1,
        ) from None
    except csv.Error:
        raise ImportFailed(
            _("The file is not valid CSV (near line %(line)d).") % {"line": prev_end + 1},
            line=prev_end + 1,
        ) from None


# --- loading ------------------------------------------------------------------------------------


def _batched(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


_STAGE = "opora_registry_import_stage"


def _load_postgresql(blocks: Iterable[bytes], *, source: str) -> None:
    """Load `blocks` of rows in COPY's text format, DB_COLUMNS order (`copy_blocks`)."""
    table = connection.ops.quote_name(RegistryRecord._meta.db_table)
    cols = ", ".join(DB_COLUMNS)
    key = (
        "r.source = %(source)s AND r.iin_bidx = s.iin_bidx AND r.child_iin_bidx = s.child_iin_bidx"
    )
    changed = " OR ".join(f"r.{c} IS DISTINCT FROM s.{c}" for c in _UPDATED_COLUMNS)
    set_from_stage = ", ".join(f"{c} = s.{c}" for c in _UPDATED_COLUMNS)
    set_excluded = ", ".join(f"{c} = EXCLUDED.{c}" for c in _UPDATED_COLUMNS)
    params = {"source": source}
    with connection.cursor() as cursor:
        # One import per source at a time; lookups and other sources are not blocked.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext('opora.registry_import'), hashtext(%(source)s))",
            params,
        )
        # A first load into an empty registry: straight into the table, with its indexes built
        # once at the end rather than row by row (several times faster). DDL is transactional,
        # so a failure restores them; readers wait for the commit, but an empty registry has
        # nobody to answer yet.
        rebuild = _drop_indexes_if_empty(cursor, table)
        if rebuild:
            _copy_into_empty_table(cursor, table, blocks, source=source)
            _rebuild(cursor, table, rebuild)
            return
        cursor.execute(f"DROP TABLE IF EXISTS {_STAGE}")
        # seq keeps the file order, so that of several rows with one key the last one wins.
        cursor.execute(
            f"""CREATE TEMP TABLE {_STAGE} (
                seq bigint GENERATED ALWAYS AS IDENTITY,
                iin_bidx varchar(32) COLLATE "C" NOT NULL,
                child_iin_bidx varchar(32) COLLATE "C" NOT NULL,
                sealed text NOT NULL, relation varchar(64) NOT NULL,
                status varchar(16) NOT NULL
            ) ON COMMIT DROP"""
        )
        _copy_blocks(cursor, _STAGE, blocks)
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # Temporary tables get no statistics from autovacuum; without them the planner would
        # not choose the hash joins below.
        cursor.execute(f"ANALYZE {_STAGE}")
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {_STAGE} GROUP BY iin_bidx, child_iin_bidx "
            "HAVING count(*) > 1)"
        )
        if cursor.fetchone()[0]:
            cursor.execute(
                f"DELETE FROM {_STAGE} s USING {_STAGE} t "
                "WHERE t.iin_bidx = s.iin_bidx AND t.child_iin_bidx = s.child_iin_bidx "
                "AND t.seq > s.seq"
            )
        # Rows already present: one hash join instead of a million conflict probes; unchanged
        # rows are not rewritten, so a repeated import writes nothing.
        cursor.execute(
            f"UPDATE {table} r SET {set_from_stage}, updated_at = now() "
            f"FROM {_STAGE} s WHERE {key} AND ({changed})",
            params,
        )
        # New rows, in key order (index locality). ON CONFLICT covers rows another session
        # committed after this statement's snapshot.
        cursor.execute(
            f"""INSERT INTO {table} AS r (source, {cols}, updated_at)
            SELECT %(source)s, {cols}, now() FROM {_STAGE} s
            WHERE NOT EXISTS (SELECT 1 FROM {table} r WHERE {key})
            ORDER BY iin_bidx, child_iin_bidx
            ON CONFLICT (source, iin_bidx, child_iin_bidx) DO UPDATE SET {set_excluded},
                updated_at = EXCLUDED.updated_at""",
            params,
        )
        cursor.execute(f"DROP TABLE {_STAGE}")


def _copy_blocks(cursor: Any, table: str, blocks: Iterable[bytes]) -> None:
    """COPY `blocks` (text format, DB_COLUMNS order) into `table`."""
    sql = f"COPY {table} ({', '.join(DB_COLUMNS)}) FROM STDIN"
    with cursor.cursor.copy(sql) as copy:  # the psycopg cursor under Django's wrapper
        for block in blocks:
            copy.write(block)


def _copy_into_empty_table(
    cursor: Any, table: str, blocks: Iterable[bytes], *, source: str
) -> None:
    """COPY the rows into the registry table itself (its indexes are dropped meanwhile)."""
    # The rows carry no source and time: for this COPY they are the columns' defaults, set and
    # dropped again inside this transaction, which holds the table's exclusive lock. now() is the
    # transaction's time, as the upsert path uses.
    cursor.execute(
        f"ALTER TABLE {table} ALTER source SET DEFAULT %s, ALTER updated_at SET DEFAULT now()",
        [source],
    )
    # The ids come from the identity sequence, which otherwise takes its lock (and writes WAL
    # every 32 values) for each row: with a cache this session reserves them 10,000 at a time.
    # Unused reserved ids are skipped, as after any rollback; the setting is restored below.
    cursor.execute(
        "SELECT s.seqcache FROM pg_sequence s "
        "WHERE s.seqrelid = pg_get_serial_sequence(%s, 'id')::regclass",
        [RegistryRecord._meta.db_table],
    )
    cache = cursor.fetchone()[0]
    cursor.execute(f"ALTER TABLE {table} ALTER id SET CACHE 10000")
    _copy_blocks(cursor, table, blocks)
    cursor.execute(
        f"ALTER TABLE {table} ALTER source DROP DEFAULT, ALTER updated_at DROP DEFAULT, "
        f"ALTER id SET CACHE {int(cache)}"
    )


def _keep_last_of_each_key(cursor: Any, table: str) -> None:
    """Of several rows with one key, keep the last one (the highest id: ids follow the file)."""
    cursor.execute(
        f"DELETE FROM {table} a USING {table} b WHERE a.source = b.source "
        "AND a.iin_bidx = b.iin_bidx AND a.child_iin_bidx = b.child_iin_bidx AND a.id < b.id"
    )
    # The DELETE queued the deferred foreign-key checks of the tables that refer here, and
    # PostgreSQL alters no table with pending trigger events: run the checks now.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _rebuild(cursor: Any, table: str, statements: list[str]) -> None:
    """Re-create the unique constraint and the indexes after a first load.

    A file rarely repeats a key, so the unique constraint is simply added: building it checks
    every key in one pass. Only when that fails are the duplicates removed (the last row of a key
    wins, as in the upsert path) and the constraint added again.
    """
    # Sorting a million keys in memory instead of in temporary files; for this transaction only.
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for statement in statements:
        if statement.startswith("ALTER TABLE"):
            try:
                with transaction.atomic():  # a savepoint: a failed build leaves the load intact
                    cursor.execute(statement)
            except IntegrityError:
                _keep_last_of_each_key(cursor, table)
                cursor.execute(statement)
        else:
            cursor.execute(statement)


def _drop_indexes_if_empty(cursor: Any, table: str) -> list[str]:
    """For a first load: drop the unique constraint and secondary indexes of the empty registry
    table and return the statements that recreate them (exact definitions from the catalogue).

    Building an index once over sorted data is several times faster than a million insertions;
    re-adding the constraint checks uniqueness over the whole table in one pass.
    """
    cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table})")
    if not cursor.fetchone()[0]:
        return []
    # Another source's first load may have started meanwhile: decide again under the lock.
    cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table})")
    if not cursor.fetchone()[0]:
        return []
    regclass = RegistryRecord._meta.db_table
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'u'",
        [regclass],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
        "AND NOT x.indisprimary AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
        [regclass],
    )
    indexes = cursor.fetchall()
    quote = connection.ops.quote_name
    for name, _definition in constraints:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {quote(name)}")
    return [
        *(f"ALTER TABLE {table} ADD CONSTRAINT {quote(n)} {d}" for n, d in constraints),
        *(d for _n, d in indexes),
    ]


def _load_generic(rows: Iterable[tuple], *, source: str) -> None:
    table = connection.ops.quote_name(RegistryRecord._meta.db_table)
    cols = ", ".join(DB_COLUMNS)
    placeholders = ", ".join(["%s"] * (len(DB_COLUMNS) + 2))
    updates = ", ".join(f"{c} = excluded.{c}" for c in _UPDATED_COLUMNS)
    changed = " OR ".join(f"{table}.{c} IS NOT excluded.{c}" for c in _UPDATED_COLUMNS)
    sql = (
        f"INSERT INTO {table} (source, {cols}, updated_at) VALUES ({placeholders}) "
        f"ON CONFLICT (source, iin_bidx, child_iin_bidx) DO UPDATE SET {updates}, "
        f"updated_at = excluded.updated_at WHERE {changed}"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        for batch in _batched(rows, EXECUTEMANY_BATCH_ROWS):
            cursor.executemany(sql, [(source, *r, now) for r in batch])


def load_file(*, source: str, path: Path, stats: ImportStats, today: dt.date) -> None:
    """Read `path` and upsert its valid rows; must run inside a transaction (it is not one)."""
    if source not in COLUMNS:
        raise ImportFailed(_("Unknown registry source."))
    if connection.vendor == "postgresql":
        _load_postgresql(copy_blocks(path, source=source, stats=stats, today=today), source=source)
        return
    with _open_text(path) as handle:
        records = read_records(iter(handle), source=source, stats=stats, today=today)
        _load_generic(seal_records(records), source=source)


def _open_text(path: Path) -> TextIO:
    try:
        return open(path, encoding="utf-8-sig", newline="")
    except OSError:
        raise ImportFailed(_("The file cannot be opened.")) from None


# --- the rows of a file as COPY data, sealed in parallel --------------------------------------------
#
# Reading, validating and sealing a row costs Python several microseconds, more than PostgreSQL
# spends storing it: in one process a million-row import would wait on Python. The rows are
# independent, so a large file is cut into chunks of whole lines, which worker processes (forked:
# they inherit the settings and keys, and never touch the database connection) turn into COPY data
# while this process streams the finished chunks, in file order, to PostgreSQL. The result is the
# same as reading the file in one process: same rows, same rejects and line numbers.
#
# A chunk is cut after a newline, which is a row boundary unless a quoted field spans lines. So the
# chunks go to the workers only while they hold no quote character at all (a machine-made export
# has none); from the first chunk with a quote (or not UTF-8, or not valid CSV), the rest of the
# file is read here, in one process, exactly as a small file is.

CHUNK_BYTES = 4 << 20
PARALLEL_MIN_BYTES = 16 << 20  # smaller files: one process (forking costs more than it saves)
MAX_WORKERS = 4


def import_workers() -> int:
    """How many processes seal a large file: one per core, none where a process may not fork
    (a daemonic worker process)."""
    if multiprocessing.current_process().daemon or not hasattr(os, "fork"):
        return 0
    return min(MAX_WORKERS, os.cpu_count() or 1)


def copy_blocks(
    path: Path, *, source: str, stats: ImportStats, today: dt.date, workers: int | None = None
) -> Iterator[bytes]:
    """The valid rows of `path` as blocks of COPY text data (DB_COLUMNS order), in file order;
    `stats` counts and reports the rest. Large files are sealed by `workers` processes."""
    workers = import_workers() if workers is None else workers
    try:
        size = path.stat().st_size
    except OSError:
        raise ImportFailed(_("The file cannot be opened.")) from None
    if workers < 2 or size < PARALLEL_MIN_BYTES:
        with _open_text(path) as handle:
            records = read_records(iter(handle), source=source, stats=stats, today=today)
            yield from _sealed_blocks(records)
        return
    with open(path, "rb") as raw:
        header = raw.readline()
        try:
            layout = read_header(header.decode("utf-8-sig"), source=source)
        except UnicodeDecodeError:
            layout = None
        if layout is None or b"\r" in header.rstrip(b"\r\n") or not header.endswith(b"\n"):
            # An unusual first line (not UTF-8, or old Mac line ends): one process says why.
            raw.seek(0)
            with io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as handle:
                records = read_records(iter(handle), source=source, stats=stats, today=today)
                yield from _sealed_blocks(records)
            return
        language = translation.get_language()
        resume: tuple[int, int] | None = None  # (byte offset, line) where one process goes on
        pending: collections.deque[tuple[Any, int, int]] = collections.deque()
        line, chunk = 2, b""
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            try:
                while resume is None:
                    offset = raw.tell()
                    chunk = raw.read(CHUNK_BYTES)
                    if not chunk:
                        break
                    chunk += raw.readline()
                    if b'"' in chunk:
                        break  # the chunks before this one first
                    job = (chunk, line, layout, today, language)
                    pending.append((pool.submit(_seal_chunk, job), offset, line))
                    line += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
                    while resume is None and (
                        len(pending) > 2 * workers or (pending and pending[0][0].done())
                    ):
                        resume = yield from _take(pending, stats)
                while pending and resume is None:
                    resume = yield from _take(pending, stats)
            finally:
                pool.shutdown(cancel_futures=True)
        if resume is None and chunk:  # stopped at a chunk with a quote
            resume = (offset, line)
        if resume is not None:
            offset, line = resume
            raw.seek(offset)
            with io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle:
                rows = read_rows(handle, layout=layout, stats=stats, today=today, first_line=line)
                yield from _sealed_blocks(rows)


def _take(
    pending: collections.deque[tuple[Any, int, int]], stats: ImportStats
) -> Generator[bytes, None, tuple[int, int] | None]:
    """Yield the oldest chunk's COPY data; or, when a worker could not read it, where the rest of
    the file must be read in one process."""
    future, offset, line = pending.popleft()
    result = future.result()
    if result is None:
        return offset, line
    block, chunk_stats = result
    stats.merge(chunk_stats)
    yield block
    return None


def _sealed_blocks(records: Iterable[tuple]) -> Iterator[bytes]:
    lines = map(copy_line_sealer(), records)
    while batch := list(islice(lines, COPY_BATCH_ROWS)):
        yield "".join(batch).encode()


_worker_checks: dict[dt.date, Callable[[str], bool]] = {}


def _seal_chunk(job: tuple) -> tuple[bytes, ImportStats] | None:
    """In a worker: a chunk of whole lines → its COPY data and its counts; None when the chunk
    cannot be read as it is (not UTF-8, not valid CSV): one process then reads it and says why."""
    chunk, first_line, layout, today, language = job
    # One IIN checker per process: its cache of birth prefixes serves every chunk.
    check = _worker_checks.get(today) or _worker_checks.setdefault(today, fast_iin_checker(today))
    stats = ImportStats()
    try:
        text = chunk.decode()
        with translation.override(language):
            rows = read_rows(
                io.StringIO(text, newline=""),
                layout=layout,
                stats=stats,
                today=today,
                first_line=first_line,
                check=check,
            )
            return b"".join(_sealed_blocks(rows)), stats
    except (UnicodeDecodeError, ImportFailed):
        return None
