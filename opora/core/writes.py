# ruff: noqa: S608, S611 - the SQL is Django's compiled SQL and quoted identifiers; values are parameters.
"""Several row writes that belong together, sent as one statement where the database allows it.

A booking inserts its row, flags the slot, moves the request on and writes the audit event. Made
one by one that is four statements, each a round trip and (for `Model.save`) a millisecond of
Python; PostgreSQL takes them as one statement with data-modifying `WITH` clauses, where the
rows that follow the new one read its id from the first clause. Other databases (the embedded
SQLite default) get the same writes one by one, in the same transaction.

The SQL is built by Django's own compilers, so columns, conversions and `auto_now` fields are what
`Model.save` would write. No signals are sent (Opora registers none for these models) and nothing
is validated here: callers validate first, and the database constraints still decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router
from django.db.models.expressions import RawSQL
from django.db.models.sql import InsertQuery, UpdateQuery


class _NewPk:
    """Stands for the id of the row `save_together` inserts first, in a row that follows it."""

    def __repr__(self) -> str:
        return "NEW_PK"


NEW_PK: Any = _NewPk()

# Text-like columns get the id as text (e.g. `AuditEvent.subject_id`).
_TEXT_TYPES = {"CharField", "TextField", "SlugField"}


def _insert_fields(obj: models.Model) -> list[models.Field]:
    meta = obj._meta
    fields = [f for f in meta.local_concrete_fields if not f.generated]
    if obj.pk is None and meta.auto_field is not None:
        fields = [f for f in fields if f is not meta.auto_field]
    return fields


def _insert_sql(obj: models.Model, using: str) -> tuple[str, tuple]:
    query = InsertQuery(type(obj))
    query.insert_values(_insert_fields(obj), [obj])
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = [obj._meta.pk]
    [(sql, params)] = compiler.as_sql()
    return sql, tuple(params)


def _update_sql(
    obj: models.Model, fields: Sequence[str], using: str, new_pk: dict[bool, RawSQL]
) -> tuple[str, tuple]:
    query = UpdateQuery(type(obj))
    values = []
    for name in fields:
        field = obj._meta.get_field(name)
        assert isinstance(field, models.Field), name  # a concrete column, not a reverse relation
        # As Model._save_table does: pre_save gives auto_now fields their new value.
        value = field.pre_save(obj, False)
        values.append((field, None, new_pk[_is_text(field)] if value is NEW_PK else value))
    # django-stubs types the values as `Case` only; Django takes any expression or plain value.
    query.add_update_fields(values)  # type: ignore[arg-type]
    query.add_q(models.Q(pk=obj.pk))
    sql, params = query.get_compiler(using=using).as_sql()
    return sql, tuple(params)


def _is_text(field: models.Field) -> bool:
    return field.get_internal_type() in _TEXT_TYPES


def _refs(obj: models.Model) -> list[models.Field]:
    """The fields of `obj` that stand for the new row's id."""
    return [f for f in obj._meta.concrete_fields if getattr(obj, f.attname) is NEW_PK]


def _fill(obj: models.Model, refs: Sequence[models.Field], pk: Any) -> None:
    for field in refs:
        setattr(obj, field.attname, str(pk) if _is_text(field) else pk)


def _fill_sentinel(obj: models.Model, refs: Sequence[models.Field]) -> None:
    for field in refs:
        setattr(obj, field.attname, NEW_PK)


def save_together(
    first: models.Model,
    *,
    updates: Sequence[tuple[models.Model, Sequence[str]]] = (),
    then: Sequence[models.Model] = (),
) -> None:
    """Insert `first`, save `updates` ((instance, field names) each) and insert the rows of `then`;
    fields of `updates` and `then` may hold `NEW_PK` for the id of `first`. All rows end up saved
    and the new ones carry their ids.

    Must run inside the caller's transaction. On PostgreSQL it is one statement: a unique or
    foreign-key violation anywhere fails all of it with `IntegrityError` and writes nothing.
    """
    using = router.db_for_write(type(first), instance=first)
    connection = connections[using]
    update_refs = [_refs(obj) for obj, _fields in updates]
    then_refs = [_refs(obj) for obj in then]
    if connection.vendor != "postgresql":
        first.save(using=using, force_insert=True)
        for (obj, fields), refs in zip(updates, update_refs, strict=True):
            _fill(obj, refs, first.pk)
            obj.save(using=using, update_fields=fields)
        for obj, refs in zip(then, then_refs, strict=True):
            _fill(obj, refs, first.pk)
            obj.save(using=using, force_insert=True)
        return

    qn = connection.ops.quote_name
    new = qn("w_new")
    pk_field = first._meta.pk
    assert pk_field is not None and pk_field.column is not None
    pk_column = qn(pk_field.column)
    new_pk = {
        False: RawSQL(f"SELECT {pk_column} FROM {new}", ()),
        True: RawSQL(f"SELECT {pk_column}::text FROM {new}", ()),
    }
    sql, first_params = _insert_sql(first, using)
    clauses, params = [f"{new} AS ({sql})"], list(first_params)
    for i, (obj, fields) in enumerate(updates):
        sql, p = _update_sql(obj, fields, using, new_pk)
        clauses.append(f"{qn(f'w_u{i}')} AS ({sql})")
        params += p
    for i, (obj, refs) in enumerate(zip(then, then_refs, strict=True)):
        for field in refs:
            setattr(obj, field.attname, new_pk[_is_text(field)])
        sql, p = _insert_sql(obj, using)
        clauses.append(f"{qn(f'w_t{i}')} AS ({sql})")
        params += p
    selects = [f"(SELECT * FROM {new})"] + [
        f"(SELECT * FROM {qn(f'w_t{i}')})" for i in range(len(then))
    ]
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"WITH {', '.join(clauses)} SELECT {', '.join(selects)}", params)
            ids = cursor.fetchone()
    except BaseException:
        for obj, refs in zip(then, then_refs, strict=True):
            _fill_sentinel(obj, refs)
        raise
    first.pk = ids[0]
    for (obj, _fields), refs in zip(updates, update_refs, strict=True):
        _fill(obj, refs, first.pk)
    for obj, refs, pk in zip(then, then_refs, ids[1:], strict=True):
        obj.pk = pk
        _fill(obj, refs, first.pk)
    for obj in (first, *then):
        obj._state.adding = False
        obj._state.db = using
