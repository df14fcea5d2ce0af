"""The audit log is a hash chain sealed in batches: tampering with it (UPDATE, DELETE,
reordering) is named by `opora verify_audit`, and the database refuses UPDATE and DELETE from the
application, but the one sealing UPDATE of an unsealed event."""

import datetime as dt
import importlib
import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from opora.core.audit import AuditEventType, actor_label, audit_record
from opora.core.audit_chain import (
    GENESIS,
    audit_chain_verify,
    audit_seal,
    audit_seal_now,
    audit_unsealed,
    event_hash,
)
from opora.core.models import AuditChainHead, AuditEvent, Service
from opora.demo.factories import make_service_1411, make_user

pytestmark = pytest.mark.django_db
SEALING_MIGRATION = importlib.import_module("opora.core.migrations.0008_audit_sealed_in_batches")

PG_TRIGGER = "core_auditevent_append_only"
SQLITE_TRIGGERS = {
    "core_auditevent_no_update": "BEFORE UPDATE ON core_auditevent",
    "core_auditevent_no_delete": "BEFORE DELETE ON core_auditevent",
}


@pytest.fixture
def chain():
    """Six events by a staff member on a service, sealed."""
    service = make_service_1411(code="chain-test")
    user = make_user("operator", username="chain-operator")
    events = [
        audit_record(
            actor=user,
            event_type=AuditEventType.ADMIN_CHANGED,
            subject=service,
            extra={"fields": ["name"], "n": i, "share": 0.5, "big": 1e16},
        )
        for i in range(6)
    ]
    assert all(e.seq is None and e.hash is None for e in events)  # written unsealed
    assert audit_seal_now() == 6
    for event in events:
        event.refresh_from_db()
    return service, user, events


def _tamper(sql: str, params: tuple = ()) -> None:
    """Run `sql` as a database owner who switches the append-only triggers off first (a
    superuser on PostgreSQL; on SQLite anyone who can drop a trigger), then puts them back."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Pending foreign-key checks would stop ALTER TABLE in this transaction: run them.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE core_auditevent DISABLE TRIGGER {PG_TRIGGER}")
            cursor.execute(sql, params)
            cursor.execute(f"ALTER TABLE core_auditevent ENABLE TRIGGER {PG_TRIGGER}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            for name in SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER {name}")
            cursor.execute(sql, params)
            # Put back as migrated (the UPDATE trigger lets the sealing UPDATE through).
            cursor.execute(SEALING_MIGRATION.SQLITE_SEALING)
            cursor.execute(SEALING_MIGRATION.SQLITE_REST[0])


def _verify() -> str:
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def test_events_are_numbered_and_each_follows_the_previous_one(chain):
    _service, user, events = chain
    stored = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in stored] == list(range(1, len(stored) + 1))
    assert stored[0].prev_hash == GENESIS
    for before, after in zip(stored, stored[1:], strict=False):
        assert after.prev_hash == before.hash
    # The hash of what the database gives back is the hash written (numbers, lists, times).
    assert all(event_hash(e) == e.hash for e in stored)
    assert stored[-1].actor_label == "chain-operator (operator)"
    head = AuditChainHead.objects.get()
    assert (head.seq, head.hash) == (stored[-1].seq, stored[-1].hash)
    assert "Audit chain intact: 6 events, last seq 6." in _verify()


def test_an_updated_event_is_named(chain):
    _service, _user, events = chain
    target = events[2]
    _tamper(
        "UPDATE core_auditevent SET event_type = %s WHERE id = %s", ("admin.deleted", target.pk)
    )
    with pytest.raises(CommandError) as failure:
        _verify()
    message = str(failure.value)
    assert f"seq {target.seq} (event id {target.pk})" in message
    assert "changed after it was written (updated) [changed]" in message
    assert "2 events before it are intact" in message


def test_a_deleted_event_is_named(chain):
    _service, _user, events = chain
    _tamper("DELETE FROM core_auditevent WHERE id = %s", (events[3].pk,))
    report = audit_chain_verify()
    assert report.broken is not None and report.broken.kind == "deleted"
    assert report.broken.seq == events[4].seq and report.broken.event_id == events[4].pk
    assert f"seq {events[3].seq} missing before it (deleted)" in report.broken.reason
    with pytest.raises(CommandError, match=r"seq 4 missing before it \(deleted\)"):
        _verify()


def test_events_deleted_at_the_end_are_named(chain):
    _service, _user, events = chain
    _tamper("DELETE FROM core_auditevent WHERE seq >= %s", (events[4].seq,))
    report = audit_chain_verify()
    assert report.broken is not None and report.broken.kind == "deleted"
    assert "seq 5–6 missing at the end (deleted)" in report.broken.reason


def test_reordered_events_are_named(chain):
    _service, _user, events = chain
    first, second = events[1], events[4]
    # Swap their places in the chain (the unique number needs a step through a free one).
    _tamper("UPDATE core_auditevent SET seq = -1 WHERE id = %s", (first.pk,))
    _tamper("UPDATE core_auditevent SET seq = %s WHERE id = %s", (first.seq, second.pk))
    _tamper("UPDATE core_auditevent SET seq = %s WHERE id = %s", (second.seq, first.pk))
    report = audit_chain_verify()
    assert report.broken is not None and report.broken.kind == "reordered"
    assert (report.broken.seq, report.broken.event_id) == (first.seq, second.pk)
    with pytest.raises(CommandError, match=r"seq 2 \(event id \d+\): .*\[reordered\]"):
        _verify()


def test_an_event_rewritten_with_a_fresh_hash_but_without_the_key_is_named(chain):
    _service, _user, events = chain
    target = events[0]
    with override_settings(SECRET_KEY="an attacker's guess"):
        target.extra = {"fields": ["nothing"]}
        forged = event_hash(target)
    _tamper(
        "UPDATE core_auditevent SET extra = %s, hash = %s WHERE id = %s",
        ('{"fields": ["nothing"]}', forged, target.pk),
    )
    report = audit_chain_verify()
    assert report.broken is not None
    assert (report.broken.kind, report.broken.seq) == ("changed", 1)


def test_the_database_refuses_update_and_delete_of_events(chain):
    _service, _user, events = chain
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=events[0].pk).update(event_type="admin.deleted")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=events[0].pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditChainHead.objects.all().delete()
    assert AuditEvent.objects.count() == len(events)
    assert audit_chain_verify().ok


def test_disabled_triggers_are_reported(chain):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL: a trigger switched off")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE core_auditevent DISABLE TRIGGER {PG_TRIGGER}")
    report = audit_chain_verify()
    assert report.broken is not None and report.broken.kind == "unguarded"


def test_the_chain_starts_again_after_a_truncate_and_continues_after_the_last_event(chain):
    service, user, events = chain
    # A head lost (not possible through the app: a trigger keeps it) is rebuilt from the last event.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "ALTER TABLE core_auditchainhead DISABLE TRIGGER core_auditchainhead_kept"
            )
            cursor.execute("DELETE FROM core_auditchainhead")
            cursor.execute(
                "ALTER TABLE core_auditchainhead ENABLE TRIGGER core_auditchainhead_kept"
            )
        else:
            cursor.execute("DROP TRIGGER core_auditchainhead_no_delete")
            cursor.execute("DELETE FROM core_auditchainhead")
            cursor.execute(
                "CREATE TRIGGER core_auditchainhead_no_delete BEFORE DELETE ON core_auditchainhead"
                " BEGIN SELECT RAISE(ABORT, 'append-only'); END"
            )
    event = audit_record(actor=None, event_type=AuditEventType.ADMIN_CHANGED, subject=service)
    audit_seal_now()
    event.refresh_from_db()
    assert event.seq == events[-1].seq + 1 and event.prev_hash == events[-1].hash
    assert audit_chain_verify().ok


def test_the_actor_label_names_username_and_role_or_the_part_of_opora():
    from opora.core.actors import ClientActor, SystemActor

    user = make_user("head", username="head-x")
    assert actor_label(user) == "head-x (head)"
    assert actor_label(SystemActor("scheduler")) == "system:scheduler"
    assert actor_label(ClientActor(request_id=5, channel="telegram")) == "client:telegram"
    assert actor_label(None) == ""


def test_an_unsaved_subject_is_refused():
    with pytest.raises(ValueError, match="once it is saved"):
        audit_record(actor=None, event_type=AuditEventType.ADMIN_CHANGED, subject=Service())


def test_events_are_sealed_in_the_order_of_time_after_the_grace(chain):
    service, _user, _events = chain
    late = audit_record(actor=None, event_type=AuditEventType.ADMIN_CHANGED, subject=service)
    assert audit_seal() == 0  # younger than the grace: left for the next run
    assert audit_unsealed() == 1
    # A transaction that wrote its event earlier but committed later: a higher id, an older time.
    (early,) = AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                created_at=late.created_at - dt.timedelta(seconds=1),
                event_type=AuditEventType.ADMIN_CHANGED,
                subject_type="core.service",
                subject_id=str(service.pk),
            )
        ]
    )
    assert early.pk > late.pk
    assert audit_seal_now() == 2
    late.refresh_from_db()
    early.refresh_from_db()
    assert (early.seq, late.seq) == (7, 8)  # seq is the order of sealing, not of ids
    assert audit_unsealed() == 0 and audit_chain_verify().ok


def test_an_unsealed_event_cannot_be_changed_nor_sealed_with_other_content(chain):
    service, _user, _events = chain
    event = audit_record(actor=None, event_type=AuditEventType.ADMIN_CHANGED, subject=service)
    refused: list[dict[str, Any]] = [
        {"event_type": "admin.deleted"},
        {"extra": {"n": 1}},
        {"actor_label": "someone"},
        # Sealing and changing the content in one UPDATE.
        {"seq": 100, "prev_hash": GENESIS, "hash": "f" * 64, "subject_id": "0"},
        # Sealing half-way.
        {"hash": "f" * 64},
    ]
    for change in refused:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(**change)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    # A sealed event cannot be sealed again.
    audit_seal_now()
    event.refresh_from_db()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(hash="f" * 64)
    assert audit_chain_verify().ok


def test_verify_reports_events_left_unsealed_too_long(chain):
    service, _user, _events = chain
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                created_at=timezone.now() - dt.timedelta(minutes=11),
                event_type=AuditEventType.ADMIN_CHANGED,
                subject_type="core.service",
                subject_id=str(service.pk),
            )
        ]
    )
    err = io.StringIO()
    call_command("verify_audit", stdout=io.StringIO(), stderr=err)
    assert "1 events were unsealed for more than 10 minutes" in err.getvalue()
    assert audit_chain_verify().stale_unsealed == 0  # sealed by the first check


KEY_A = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="  # 32 bytes of "A", synthetic
KEY_B = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="  # 32 bytes of "B", synthetic


def _more_events(service, user, n: int) -> list[AuditEvent]:
    events = [
        audit_record(
            actor=user, event_type=AuditEventType.ADMIN_CHANGED, subject=service, extra={"n": i}
        )
        for i in range(n)
    ]
    audit_seal_now()
    for event in events:
        event.refresh_from_db()
    return events


@pytest.mark.django_db
def test_a_rotated_key_keeps_the_chain_whole():
    """The key is rotated: new events are sealed with the new key; the chain verifies with the
    old key among the retired ones, and not without it."""
    service = make_service_1411(code="rotation")
    user = make_user("operator", username="rotation-operator")
    with override_settings(OPORA_AUDIT_KEY=KEY_A):
        _more_events(service, user, 4)
        assert audit_chain_verify().broken is None
    with override_settings(OPORA_AUDIT_KEY=KEY_B, OPORA_AUDIT_OLD_KEYS=[KEY_A]):
        later = _more_events(service, user, 3)
        report = audit_chain_verify()
        assert report.broken is None and report.checked == 7
        assert later[0].hash == event_hash(later[0])  # sealed with the new key
    with override_settings(OPORA_AUDIT_KEY=KEY_B, OPORA_AUDIT_OLD_KEYS=[]):
        report = audit_chain_verify()
        assert report.broken is not None
        assert (report.broken.kind, report.broken.seq) == ("changed", 1)


@pytest.mark.django_db
def test_a_retired_key_cannot_rewrite_what_came_after_its_run():
    """Whoever holds the old key (retired, perhaps leaked) cannot change an event sealed after
    the rotation: the verifier does not take a retired key back."""
    service = make_service_1411(code="rotation-2")
    user = make_user("operator", username="rotation-operator-2")
    with override_settings(OPORA_AUDIT_KEY=KEY_A):
        _more_events(service, user, 2)
    with override_settings(OPORA_AUDIT_KEY=KEY_B, OPORA_AUDIT_OLD_KEYS=[KEY_A]):
        target = _more_events(service, user, 2)[-1]  # the last event: no successor to break
        assert audit_chain_verify().broken is None
        target.extra = {"n": "forged"}
        with override_settings(OPORA_AUDIT_KEY=KEY_A):
            forged = event_hash(target)
        _tamper(
            "UPDATE core_auditevent SET extra = %s, hash = %s WHERE id = %s",
            ('{"n": "forged"}', forged, target.pk),
        )
        # The head still names the true last hash; rewrite it too, as a thorough forger would.
        AuditChainHead.objects.update(hash=forged)
        report = audit_chain_verify()
        assert report.broken is not None
        assert (report.broken.kind, report.broken.seq) == ("changed", target.seq)
