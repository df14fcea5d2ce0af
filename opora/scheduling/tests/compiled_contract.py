"""The contract of the booking path's compiled fetch (`services._fetch_compiled`): for every lock
query it runs, and for ids it was not compiled with, it returns exactly what the plain QuerySet
returns — the same rows in the same order, every concrete field with the same value and type, the
same annotations, and the same related objects populated by select_related (with their fields).

Used in-process by test_compiled_fetch.py (on the database the suite runs on) and, as
`python -m opora.scheduling.tests.compiled_contract`, in a fresh process on a SQLite file, so one
PostgreSQL run of the suite checks both databases. Prints the outcome as JSON when run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from typing import Any


def snapshot(obj: Any, related: dict[str, Any], annotations: list[str]) -> dict[str, Any]:
    """What a caller can read from `obj` without a query: its class and state, the value and type
    of every concrete field, the annotations, and (recursively) the select_related objects."""
    meta = type(obj)._meta
    out: dict[str, Any] = {
        "model": meta.label,
        "db": obj._state.db,
        "adding": obj._state.adding,
        "fields": {
            f.attname: (type(getattr(obj, f.attname)).__name__, repr(getattr(obj, f.attname)))
            for f in meta.concrete_fields
        },
        "annotations": {
            name: (type(getattr(obj, name, None)).__name__, repr(getattr(obj, name, None)))
            for name in annotations
        },
    }
    for name, deeper in related.items():
        field = meta.get_field(name)
        if not field.is_cached(obj):
            out[f"related:{name}"] = "not populated"
            continue
        value = field.get_cached_value(obj)
        out[f"related:{name}"] = None if value is None else snapshot(value, deeper, [])
    return out


def compare(build: Callable[..., Any], got: list[Any], **values: int) -> tuple[list[str], int]:
    """Mismatches between `got` (the compiled fetch) and `list(build(**values))`, and the number
    of rows the plain QuerySet returned."""
    queryset = build(**values)
    related = queryset.query.select_related or {}
    if related is True:  # select_related() with no names: not used by the lock queries
        raise AssertionError("compare() needs named select_related paths")
    annotations = list(queryset.query.annotations)
    want = list(queryset)
    problems = []
    if [o.pk for o in got] != [o.pk for o in want]:
        problems.append(f"rows: {[o.pk for o in got]} != {[o.pk for o in want]}")
    for g, w in zip(got, want, strict=False):
        gs, ws = snapshot(g, related, annotations), snapshot(w, related, annotations)
        if gs != ws:
            diff = {
                k: (gs.get(k), ws.get(k)) for k in gs.keys() | ws.keys() if gs.get(k) != ws.get(k)
            }
            problems.append(f"row {w.pk}: {diff}")
    return problems, len(want)


def run_contract() -> dict[str, Any]:
    """Builds the data, runs every case through both paths and reports. Needs a database the
    caller may write to (a test database or a throwaway file)."""
    from django.db import connection, transaction

    from opora.accounts.models import Role
    from opora.core.models import CalendarOverride
    from opora.demo.factories import make_consultant, make_service_1411, make_user
    from opora.scheduling import services
    from opora.scheduling.tests.factories import future_working_day, make_request, make_slot

    service = make_service_1411()
    member = make_user(Role.OPERATOR, service=service)
    stranger = make_user(Role.OPERATOR)
    consultants = [make_consultant(service), make_consultant(service, first_name="Асель")]
    days = [future_working_day(service, nth=n) for n in range(3)]
    CalendarOverride.objects.create(service=service, date=days[0], is_working_day=True)
    CalendarOverride.objects.create(service=service, date=days[1], is_working_day=False)
    slots = [
        make_slot(service, consultants[0], days[0], dt.time(15)),
        make_slot(service, consultants[1], days[1], dt.time(10), is_open=False),
        make_slot(
            service, consultants[0], days[2], dt.time(0, 30), minutes=30
        ),  # day before in UTC
        make_slot(service, consultants[1], days[2], dt.time(17), is_booked=True),
    ]
    requests = [
        make_request(service),
        make_request(service, email="parent@example.org", phone_extra="+77010000000"),
    ]
    missing = max(s.pk for s in slots) + max(r.pk for r in requests) + 1000

    request_query = services._locked_request_query
    slots_query = services._locked_slots_query
    # (key, build, values, rows the plain QuerySet must return). The same key with other values
    # re-runs SQL compiled for the first ones.
    cases: list[tuple[tuple, Callable[..., Any], dict[str, int], int]] = [
        (
            ("contract-request", True),
            request_query,
            {"request_id": requests[0].pk, "member_id": member.pk},
            1,
        ),
        (
            ("contract-request", True),
            request_query,
            {"request_id": requests[1].pk, "member_id": stranger.pk},
            1,
        ),
        (
            ("contract-request", True),
            request_query,
            {"request_id": missing, "member_id": member.pk},
            0,
        ),
        (("contract-request", False), request_query, {"request_id": requests[1].pk}, 1),
        (("contract-request", False), request_query, {"request_id": requests[0].pk}, 1),
        (("contract-slots", 1), slots_query, {"slot0": slots[0].pk}, 1),
        (("contract-slots", 1), slots_query, {"slot0": slots[1].pk}, 1),
        (("contract-slots", 1), slots_query, {"slot0": missing}, 0),
        (("contract-slots", 2), slots_query, {"slot0": slots[3].pk, "slot1": slots[2].pk}, 2),
        (("contract-slots", 2), slots_query, {"slot0": slots[0].pk, "slot1": slots[1].pk}, 2),
        (("contract-slots", 2), slots_query, {"slot0": slots[2].pk, "slot1": missing}, 1),
    ]
    for key in {c[0] for c in cases}:  # compiled here, not by an earlier test
        services._compiled_queries.pop(
            (connection.alias, connection.vendor, _model_of(key), *key), None
        )
    mismatches: list[str] = []
    checked = 0
    seen: dict[str, set] = {"works_here": set(), "override": set(), "local_date": set()}
    for key, build, values, rows in cases:
        model = build(**values).model
        with transaction.atomic():
            got = services._fetch_compiled(model, key, build, **values)
            problems, found = compare(build, got, **values)
        checked += 1
        if found != rows:
            problems.append(f"the plain QuerySet returned {found} rows, the case expects {rows}")
        mismatches += [f"{key} {values}: {p}" for p in problems]
        for obj in got:
            if hasattr(obj, "actor_works_here"):
                seen["works_here"].add(obj.actor_works_here)
            if hasattr(obj, "day_override"):
                seen["override"].add(obj.day_override)
                seen["local_date"].add(obj.local_date.isoformat())
    # The cases must reach every kind of value the annotations can take, or they prove little.
    if seen["works_here"] != {True, False}:
        mismatches.append(f"actor_works_here took only {seen['works_here']}")
    if seen["override"] != {True, False, None}:
        mismatches.append(f"day_override took only {seen['override']}")
    if seen["local_date"] != {d.isoformat() for d in days}:
        mismatches.append(f"local_date took {sorted(seen['local_date'])}")
    return {"vendor": connection.vendor, "cases": checked, "mismatches": mismatches}


def _model_of(key: tuple) -> str:
    return "intake.ServiceRequest" if key[0] == "contract-request" else "scheduling.Slot"


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opora.settings.local")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    print(json.dumps(run_contract()))


if __name__ == "__main__":
    main()
