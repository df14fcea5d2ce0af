"""The security officer's audit log: who may read it, filters, exports, break-glass details, and
the daily check of the chain that alerts the officers."""

import csv
import importlib
import io

import pytest
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from opora.accounts.models import Role
from opora.core.actors import SystemActor
from opora.core.audit import AuditEventType, audit_record
from opora.core.audit_chain import audit_seal_now
from opora.core.models import AuditEvent
from opora.demo.factories import make_service_1411, make_user
from opora.notifications.models import Notification
from opora.web.tasks import KIND_CHAIN_BROKEN, audit_chain_check

pytestmark = pytest.mark.django_db
SEALING_MIGRATION = importlib.import_module("opora.core.migrations.0008_audit_sealed_in_batches")
URL = "/audit/"


@pytest.fixture
def officer():
    return make_user(Role.SECURITY_OFFICER, username="officer-1", email="officer@example.org")


@pytest.fixture
def events():
    service = make_service_1411(code="audit-view")
    operator = make_user(Role.OPERATOR, username="op-audit", service=service)
    read = audit_record(
        actor=operator,
        event_type=AuditEventType.REQUEST_VIEWED,
        subject=service,
        extra={"via": "page", "request_id": 77},
    )
    change = audit_record(
        actor=operator,
        event_type=AuditEventType.ADMIN_CHANGED,
        subject=service,
        extra={"fields": ["=HYPERLINK(1)"]},
    )
    by_system = audit_record(
        actor=SystemActor("scheduler"), event_type=AuditEventType.HANDOFF_SENT, subject=service
    )
    audit_seal_now()  # written unsealed: the sealer numbers and chains them
    for event in (read, change, by_system):
        event.refresh_from_db()
    return read, change, by_system


def test_the_url_is_named_and_the_officer_lands_on_the_log(client, officer):
    assert reverse("audit_log") == URL
    client.force_login(officer)
    assert client.get("/").url == URL


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.HEAD, Role.ADMIN, Role.AUTHORITY])
def test_only_the_security_officer_reads_the_log(client, role):
    service = make_service_1411(code=f"audit-{role}")
    client.force_login(make_user(role, service=service))
    assert client.get(URL).status_code == 403


def test_the_list_shows_actors_kept_on_the_event_and_hides_the_details_of_reads(
    client, officer, events
):
    read, change, by_system = events
    client.force_login(officer)
    response = client.get(URL)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    html = response.content.decode()
    assert "op-audit (operator)" in html and "system:scheduler" in html
    assert f'id="audit-open-{read.pk}"' in html  # details behind the break-glass button
    assert "request_id" not in html
    assert "HYPERLINK" in html  # an ordinary change shows its details
    viewed = AuditEvent.objects.filter(event_type=AuditEventType.AUDIT_LOG_VIEWED).get()
    assert viewed.actor_id == officer.pk and viewed.actor_label == "officer-1 (security_officer)"


def test_filters_by_actor_event_type_and_record(client, officer, events):
    read, change, _by_system = events
    client.force_login(officer)
    html = client.get(URL, {"actor": "op-audit", "event_type": "admin.changed"}).content.decode()
    assert f'id="audit-event-{change.pk}"' in html and f'id="audit-event-{read.pk}"' not in html
    html = client.get(
        URL, {"subject_type": "core.service", "subject_id": read.subject_id}
    ).content.decode()
    assert f'id="audit-event-{read.pk}"' in html
    bad = client.get(URL, {"date_from": "2026-12-10", "date_to": "2026-12-01"})
    assert "Конец периода раньше его начала." in bad.content.decode()


def test_break_glass_needs_a_reason_and_records_it(client, officer, events):
    read, _change, _system = events
    client.force_login(officer)
    asked = client.post(URL, {"event": read.pk})
    assert asked.status_code == 200 and 'id="break-glass-form"' in asked.content.decode()
    assert "request_id" not in asked.content.decode()
    too_short = client.post(URL, {"event": read.pk, "reason": "why"})
    assert too_short.status_code == 400 and "request_id" not in too_short.content.decode()
    assert not AuditEvent.objects.filter(event_type=AuditEventType.AUDIT_DETAILS_OPENED).exists()

    opened = client.post(URL, {"event": read.pk, "reason": "Complaint No. 12: who read it"})
    assert opened.status_code == 200
    assert "request_id&quot;: 77" in opened.content.decode()
    record = AuditEvent.objects.get(event_type=AuditEventType.AUDIT_DETAILS_OPENED)
    assert record.actor_id == officer.pk
    assert (record.subject_type, record.subject_id) == ("core.auditevent", str(read.pk))
    assert record.extra["reason"] == "Complaint No. 12: who read it"
    assert record.extra["seq"] == read.seq


def test_exports_are_plain_text_and_audited(client, officer, events):
    read, change, _system = events
    client.force_login(officer)
    response = client.get(URL, {"format": "csv", "event_type": "admin.changed"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][0] == str(change.seq)
    assert not rows[1][6].startswith("=")

    response = client.get(URL, {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    by_seq = {str(v[0]): v for v in values[1:]}
    assert "request_id" not in str(by_seq[str(read.seq)][6])  # a read's details stay hidden
    exported = AuditEvent.objects.filter(event_type=AuditEventType.AUDIT_LOG_EXPORTED)
    assert [e.extra["format"] for e in exported.order_by("pk")] == ["csv", "xlsx"]


def _tamper_one(event):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_append_only"
            )
            cursor.execute("UPDATE core_auditevent SET subject_id = '0' WHERE id = %s", [event.pk])
            cursor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_append_only")
        else:
            cursor.execute("DROP TRIGGER core_auditevent_no_update")
            cursor.execute("UPDATE core_auditevent SET subject_id = '0' WHERE id = %s", [event.pk])
            cursor.execute(SEALING_MIGRATION.SQLITE_SEALING)  # the trigger as migrated


def test_the_daily_check_records_an_intact_chain(officer, events):
    result = audit_chain_check()
    assert result == {"checked": 3, "ok": True, "alerted": 0}
    verified = AuditEvent.objects.get(event_type=AuditEventType.AUDIT_CHAIN_VERIFIED)
    assert verified.actor_label == "system:scheduler" and verified.extra["checked"] == 3
    assert not Notification.objects.filter(kind=KIND_CHAIN_BROKEN).exists()


def test_a_broken_chain_alerts_every_active_officer_once_a_day(officer, events):
    make_user(Role.SECURITY_OFFICER, email="gone@example.org", is_active=False)
    read, change, _system = events
    _tamper_one(change)
    result = audit_chain_check()
    assert result["ok"] is False and result["alerted"] == 1
    alert = Notification.objects.get(kind=KIND_CHAIN_BROKEN)
    assert alert.recipient == "officer@example.org" and alert.channel == "email"
    assert f"seq {change.seq} (event id {change.pk})" in alert.body
    assert "/audit/" in alert.body
    broken = AuditEvent.objects.get(event_type=AuditEventType.AUDIT_CHAIN_BROKEN)
    assert broken.extra == {
        "seq": change.seq,
        "event_id": change.pk,
        "kind": "changed",
        "officers": 1,
    }
    audit_chain_check()  # the same day again: no second e-mail
    assert Notification.objects.filter(kind=KIND_CHAIN_BROKEN).count() == 1


def test_the_check_is_one_entry_of_the_beat_schedule(settings):
    entries = [
        name
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if entry["task"] == "opora.web.tasks.verify_audit_chain"
    ]
    assert entries == ["audit-verify"]
