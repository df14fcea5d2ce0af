"""Synthetic data for the benches, made in PostgreSQL (`INSERT … SELECT … FROM generate_series`,
no rows through Python): the table-filling steps shared by bench_reports.py and
bench_dashboards.py, so that a schema change is fixed here once.

Each step writes every NOT NULL column of its table; what the benches differ in (when a request
is made, by whom, how late it is booked, how long a consultation lasts…) is passed as SQL
expressions over the step's row (`g` the request's number; `r` the request, `s` the slot, `c` the
consultation) and the named parameters of `params`. The columns encrypted at rest (core.fields)
get '' (an empty value stays empty when encrypted, and is read back as '') or, the names, a
cipher text made once by the field (`encrypted`); blind indexes, name tokens and token hashes
'' (the client's token hash unique): no plaintext sits where a cipher text is read. Personal data: none, only numbers.
"""

from __future__ import annotations

from typing import Any


def encrypted(model: Any, field: str, value: str) -> str:
    """`value` as stored in `model.field` encrypted at rest (the key is per field, not per row:
    one cipher text serves every row)."""
    return model._meta.get_field(field).get_prep_value(value)


# intake_servicerequest: every column but the key, as the SQL written for row `g` of
# generate_series(1, %(n)s). The benches override what their data shape needs.
REQUEST_COLUMNS = {
    "full_name": "%(full_name)s",  # the synthetic name, encrypted (a request is named)
    "iin": "''",
    "phone": "''",
    "phone_extra": "''",
    "email": "''",
    "reason": "''",
    "channel": "(ARRAY['phone','email','portal','telegram','whatsapp','in_person'])[1 + g %% 6]",
    "status": "'done'",
    "refusal_ground": "''",
    "referral_text": "''",
    "refusal_note": "''",
    "created_at": "now()",
    "updated_at": "now()",
    "service_id": "%(service)s",
    "client_id": "NULL",
    "region_id": "NULL",
    "is_anonymous": "false",
    "kind": "'content'",
    "preferred_form": "'video'",
    "requester_kind": "''",
    "typical_question": "''",
    "public_code": "'R' || g",
    "topic": "''",
    "language": "''",
    "email_bidx": "''",
    "iin_bidx": "''",
    "phone_bidx": "''",
    "public_token_hash": "''",
}


def regions(cur: Any, *, kz_only: bool = True) -> tuple[int, int]:
    """The first and last id of Kazakhstan's regions (of all the regions unless `kz_only`): the
    requests' regions are taken between."""
    where = "WHERE country = 'KZ'" if kz_only else ""
    cur.execute(f"SELECT min(id), max(id) FROM core_region {where}")
    return cur.fetchone()


def clients(cur: Any, count: int) -> None:
    """`count` clients, ids 1…count, no region, all named Синтетова Анна (encrypted at rest); no
    contacts."""
    from opora.intake.models import Client

    cur.execute(
        """
        INSERT INTO intake_client (id, last_name, first_name, patronymic, iin, phone,
            phone_extra, email, created_at, region_id, iin_bidx, phone_bidx,
            phone_extra_bidx, email_bidx, name_tokens)
        SELECT g, %(last)s, %(first)s, '', NULL, '', '', '', now(), NULL, '', '', '', '', ''
        FROM generate_series(1, %(count)s) g
        """,
        {
            "count": count,
            "last": encrypted(Client, "last_name", "Синтетова"),
            "first": encrypted(Client, "first_name", "Анна"),
        },
    )


def requests(cur: Any, params: dict[str, Any], **columns: str) -> None:
    """`params['n']` service requests, ids 1…n, named Синтетова Анна: REQUEST_COLUMNS with
    `columns` instead."""
    from opora.intake.models import ServiceRequest

    unknown = columns.keys() - REQUEST_COLUMNS.keys()
    assert not unknown, unknown
    values = {**REQUEST_COLUMNS, **columns}
    cur.execute(
        f"""
        INSERT INTO intake_servicerequest (id, {", ".join(values)})
        SELECT g, {", ".join(values.values())}
        FROM generate_series(1, %(n)s) g
        """,
        {**params, "full_name": encrypted(ServiceRequest, "full_name", "Синтетова Анна")},
    )


def schedules(
    cur: Any,
    params: dict[str, Any],
    *,
    first_month: str,
    last_month: str,
    submitted_at: str = "NULL",
) -> None:
    """An approved schedule for each consultant (`params['staff']`, of the service beside it in
    `params['staff_services']`) and each month from `first_month` to `last_month` (SQL)."""
    cur.execute(
        f"""
        INSERT INTO scheduling_schedule (service_id, consultant_id, month, status, created_at,
            comment, submitted_at)
        SELECT u.service_id, u.consultant_id, m::date, 'approved', now(), '', {submitted_at}
        FROM unnest(%(staff)s::bigint[], %(staff_services)s::bigint[])
                AS u(consultant_id, service_id),
            generate_series({first_month}, {last_month}, interval '1 month') m
        """,
        params,
    )


def slots(
    cur: Any,
    params: dict[str, Any],
    *,
    starts_at: str,
    length: str,
    month: str = "date_trunc('month', t.starts)::date",
) -> None:
    """One booked slot for every second request (even ids; the slot's id is the request's),
    starting at `starts_at` (SQL over the request `r`) for `length` (an interval), with the
    consultant `(r.id / 2) mod k` of the request's service (`params['staff']`: `k` =
    `params['k']` consultants per service, the services in the order of `params['services']`),
    in their schedule of `month` (SQL over `t.starts`); none where that schedule is missing."""
    cur.execute(
        f"""
        INSERT INTO scheduling_slot (id, service_id, consultant_id, schedule_id, starts_at,
            ends_at, is_open, is_booked, form)
        SELECT r.id, r.service_id, c.consultant_id, sc.id, t.starts, t.starts + {length},
            false, true, 'video'
        FROM intake_servicerequest r
        CROSS JOIN LATERAL (SELECT {starts_at} AS starts) t
        JOIN LATERAL (
            SELECT (%(staff)s::bigint[])[1 + (r.id / 2) %% %(k)s
                + (array_position(%(services)s::bigint[], r.service_id::bigint) - 1) * %(k)s]
                AS consultant_id
        ) c ON true
        JOIN scheduling_schedule sc ON sc.consultant_id = c.consultant_id AND sc.month = {month}
        WHERE r.id %% 2 = 0
        ON CONFLICT DO NOTHING
        """,
        params,
    )


def bookings(cur: Any, *, before: str) -> None:
    """An active booking of each slot by its request (same id), made `before` (an interval)
    the slot's start."""
    cur.execute(
        f"""
        INSERT INTO scheduling_booking (id, slot_id, request_id, status, created_at,
            cancel_reason, visit_address)
        SELECT s.id, s.id, s.id, 'active', s.starts_at - {before}, '', ''
        FROM scheduling_slot s
        """
    )


def consultations(cur: Any, *, length: str) -> None:
    """A video consultation of each booking (same id), held at the slot's start for `length`
    (SQL over the slot `s`); a no-show (status only, times as held) where the id is a multiple of
    20: a tenth of them, the ids being the even requests'."""
    cur.execute(
        f"""
        INSERT INTO consultations_consultation (id, booking_id, status, mode, client_token,
            created_at, started_at, ended_at, client_channel, client_sid, consultant_channel,
            form, timing, client_token_hash)
        SELECT s.id, s.id, CASE WHEN mod(s.id, 20) = 0 THEN 'no_show' ELSE 'ended' END, 'video',
            '', s.starts_at, s.starts_at, s.starts_at + {length}, '', '', '', 'video',
            'scheduled', md5('t' || s.id::text)
        FROM scheduling_booking b JOIN scheduling_slot s ON s.id = b.slot_id
        """
    )


def protocols(cur: Any) -> None:
    """A primary protocol of every ended consultation but every fifth, written by the slot's
    consultant when it ended; its topic one of nine in turn, its text empty."""
    cur.execute(
        """
        INSERT INTO consultations_protocol (id, consultation_id, child_name, reason, topic,
            solution, materials, kind, next_consultation, note, created_at, updated_at,
            written_by_id, materials_pages)
        SELECT c.id, c.id, '', '',
            (ARRAY['1','2','3','4','5','6.1','6.2','6.3','7'])[1 + mod(c.id, 9)],
            '', '', 'primary', '', '', c.ended_at, c.ended_at, s.consultant_id, 0
        FROM consultations_consultation c
        JOIN scheduling_booking b ON b.id = c.booking_id
        JOIN scheduling_slot s ON s.id = b.slot_id
        WHERE mod(c.id, 5) <> 0 AND c.status = 'ended'
        """
    )


def handoff_runs(cur: Any, params: dict[str, Any]) -> None:
    """One hand-off run per local day (`params['tz']`) from `params['first_month']` to the day
    before `params['next_month']`, sent at 17:45 (cut-off 17:00)."""
    cur.execute(
        """
        INSERT INTO scheduling_handoffrun (service_id, date, created_at, sent_at, recipients,
            request_count, cutoff, error, notification_id)
        SELECT %(service)s, d::date, now(), (d + interval '17 hours 45 minutes') AT TIME ZONE %(tz)s,
            '[]'::jsonb, 0, (d + interval '17 hours') AT TIME ZONE %(tz)s, '', NULL
        FROM generate_series(%(first_month)s::date, %(next_month)s::date - 1, interval '1 day') d
        """,
        params,
    )


def handoff_items(cur: Any, params: dict[str, Any]) -> None:
    """An item for every request, in the run of its service and local day (`params['tz']`)."""
    cur.execute(
        """
        INSERT INTO scheduling_handoffitem (run_id, request_id)
        SELECT h.id, r.id FROM intake_servicerequest r
        JOIN scheduling_handoffrun h ON h.service_id = r.service_id
            AND h.date = (r.created_at AT TIME ZONE %(tz)s)::date
        """,
        params,
    )


SERIAL_TABLES = (
    "intake_client",
    "intake_servicerequest",
    "scheduling_slot",
    "scheduling_booking",
    "consultations_consultation",
    "consultations_protocol",
)


def reset_sequences(cur: Any) -> None:
    """The id sequences past the ids written by hand (the app's own rows come after)."""
    for table in SERIAL_TABLES:
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )
