"""The breach register (issue 15): deadlines per jurisdiction (RU 24 h and 72 h; KZ one working
day by the service's calendar), alerts to the security officers once per deadline and stage,
notices recorded, pages for the officer (heads read-only), audited without the texts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from opora.accounts.models import Role
from opora.core.errors import DomainError, PermissionDenied
from opora.core.models import AuditEvent, Breach, BreachAlert
from opora.demo.factories import make_user
from opora.notifications.models import Notification
from opora.web import breaches

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(db):
    return make_user(Role.SECURITY_OFFICER, email="officer@example.org")


def _register(officer, service=None, **kw):
    data = {
        "detected_at": timezone.now() - dt.timedelta(hours=1),
        "jurisdictions": ["RU"],
        "data_kinds": "requests: names, phones",
        "affected_count": 12,
        "description": "A misdirected export",
        "service": service,
    }
    data.update(kw)
    return breaches.breach_register(actor=officer, **data)


def test_russian_deadlines_are_24_and_72_hours(officer):
    detected = timezone.now() - dt.timedelta(hours=2)
    breach = _register(officer, detected_at=detected)
    due = {d.key: d.due_at for d in breaches.breach_deadlines(breach)}
    assert due == {
        "ru_notice": detected + dt.timedelta(hours=24),
        "ru_results": detected + dt.timedelta(hours=72),
    }
    event = AuditEvent.objects.get(event_type="breach.registered")
    assert "misdirected" not in str(event.extra)


def test_kazakh_deadline_is_the_end_of_the_next_working_day(officer, service):
    # Detected on Friday 2026-12-04 in the service's zone: the next working day is Monday.
    service.country = "KZ"
    tz = service.tz
    detected = dt.datetime(2026, 12, 4, 17, 0, tzinfo=tz)
    breach = _register(officer, service, detected_at=detected, jurisdictions=["KZ", "RU"])
    due = {d.key: d.due_at for d in breaches.breach_deadlines(breach)}
    assert due["kz_notice"] == dt.datetime(2026, 12, 8, 0, 0, tzinfo=tz)  # end of Monday 7th
    assert due["ru_notice"] == detected + dt.timedelta(hours=24)


def test_alerts_go_once_per_deadline_and_stage_until_the_notice_is_recorded(officer):
    detected = timezone.now() - dt.timedelta(hours=20)  # 4 h to the 24-hour notice
    breach = _register(officer, detected_at=detected)
    assert breaches.breach_alerts_send() == 1
    assert breaches.breach_alerts_send() == 0  # the same stage is not repeated
    notes = Notification.objects.filter(kind="breach_deadline")
    assert notes.count() == 1 and notes.get().recipient == "officer@example.org"
    later = timezone.now() + dt.timedelta(hours=5)  # the notice is now overdue
    assert breaches.breach_alerts_send(now=later) == 1
    assert set(BreachAlert.objects.values_list("deadline", "stage")) == {
        ("ru_notice", "soon"),
        ("ru_notice", "overdue"),
    }
    breaches.breach_update(actor=officer, breach=breach, notices=["ru_notice"])
    assert breaches.breach_alerts_send(now=later + dt.timedelta(hours=1)) == 0
    # The 72-hour deadline still alerts when it nears.
    assert breaches.breach_alerts_send(now=detected + dt.timedelta(hours=70)) == 1


def test_bad_input_and_roles(officer, head):
    with pytest.raises(DomainError) as exc:
        _register(officer, jurisdictions=["XX"])
    assert exc.value.code == "breach_jurisdiction"
    with pytest.raises(DomainError):
        _register(officer, detected_at=timezone.now() + dt.timedelta(days=1))
    with pytest.raises(PermissionDenied):
        _register(head)


def test_pages_officer_registers_head_reads(client, officer, head, service):
    client.force_login(officer)
    response = client.post(
        reverse("breach_list"),
        {
            "detected_at": (timezone.localtime() - dt.timedelta(hours=1)).strftime(
                "%Y-%m-%dT%H:%M"
            ),
            "jurisdictions": ["RU", "KZ"],
            "service": service.pk,
            "data_kinds": "chat text",
            "affected_count": "3",
            "description": "Lost laptop",
        },
    )
    assert response.status_code in (302, 303)
    breach = breaches.breach_list()[0]
    page = client.get(reverse("breach_detail", args=[breach.pk])).content.decode()
    assert f'id="deadline-{breach.pk}-ru_notice"' in page and "breach-update-form" in page
    client.post(reverse("breach_update", args=[breach.pk]), {"notices": ["ru_notice"]})
    breach.refresh_from_db()
    assert breach.ru_notified_at is not None
    client.logout()
    client.force_login(head)
    page = client.get(reverse("breach_detail", args=[breach.pk]), follow=True)
    assert page.status_code == 200 and "breach-update-form" not in page.content.decode()
    assert client.post(reverse("breach_update", args=[breach.pk])).status_code == 403


def test_service_calendar_default_is_used_without_a_service(officer):
    breach = _register(officer, jurisdictions=["KZ"])
    (deadline,) = breaches.breach_deadlines(breach)
    assert deadline.due_at == breach.detected_at + dt.timedelta(hours=24)


def test_the_register_downloads_as_csv_with_plain_cells_only(client, officer, head):
    """A text a spreadsheet would run (= + - @, a leading tab) stays text behind the quote
    prefix; no cell begins with a control character; the download is audited (count only)."""
    import csv
    import io

    first = _register(
        officer,
        data_kinds="+7 columns: phones",
        description='=HYPERLINK("http://evil.example","open")',
        actions="@SUM(1+1)",
    )
    second = _register(officer, jurisdictions=["KZ"], description="Lost backup tape")
    Breach.objects.filter(pk=second.pk).update(actions="\t=cmd|' /C calc'!A0", data_kinds="-1+2")
    client.force_login(head)  # heads read the register, so they may download it too
    page = client.get(reverse("breach_list")).content.decode()
    assert 'id="breach-export-csv"' in page
    response = client.get(reverse("breach_export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(text[1:])))
    assert len(header) == 10 and len(rows) == 2
    cells = [c for row in [header, *rows] for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@") or (c and ord(c[0]) < 32)]
    by_pk = {row[0]: row for row in rows}
    row = by_pk[str(first.pk)]
    assert row[7] == '\'=HYPERLINK("http://evil.example","open")'
    assert (row[5], row[8], row[6]) == ("'+7 columns: phones", "'@SUM(1+1)", "12")
    due = timezone.localtime(first.detected_at + dt.timedelta(hours=24))
    assert due.strftime("%Y-%m-%d %H:%M") in row[9]  # the deadline, as the pages show it
    row = by_pk[str(second.pk)]
    assert row[8].startswith("'") and row[5] == "'-1+2"
    event = AuditEvent.objects.get(event_type="breach.register_exported")
    assert event.extra == {"rows": 2}
    client.logout()
    client.force_login(make_user(Role.CONSULTANT))
    assert client.get(reverse("breach_export")).status_code == 403
