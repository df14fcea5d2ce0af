import datetime as dt
import io

import openpyxl
import pytest
from django.core import mail
from django.core.management import call_command

from opora.core.errors import DomainError, PermissionDenied
from opora.core.models import AuditEvent, Region
from opora.notifications.models import Notification
from opora.notifications.outbox import outbox_deliver
from opora.scheduling import services, tasks
from opora.scheduling.calendar import make_aware_local
from opora.scheduling.models import Booking, HandoffRun
from opora.scheduling.services import HANDOFF_COLUMNS
from opora.scheduling.tests.factories import make_request, make_slot, other_service

D, T = dt.date, dt.time
DAY = D(2026, 3, 10)  # a Tuesday


def registered(service, when: dt.datetime, **kw):
    req = make_request(service, **kw)
    type(req).objects.filter(pk=req.pk).update(created_at=when)
    req.refresh_from_db()
    return req


@pytest.fixture
def day_requests(service, consultant):
    region = Region.objects.create(
        code="KZ-ALA",
        country="KZ",
        kind="city",
        name_ru="Алматы",
        name_kk="Алматы",
        name_en="Almaty",
    )
    first = registered(
        service,
        make_aware_local(service, DAY, T(0, 5)),
        full_name="Сейткали Айгерим Болатовна",
        iin="900101400123",
        phone="+77010000001",
        region=region,
    )
    second = registered(
        service, make_aware_local(service, DAY, T(16, 59)), full_name="Ким Ольга", status="booked"
    )
    slot = make_slot(service, consultant, D(2026, 3, 12), T(15))
    Booking.objects.create(slot=slot, request=second)
    # After the operators' 17:00 close (it goes in the next hand-off), and not of this service.
    registered(service, make_aware_local(service, DAY, T(17, 10)))
    registered(other_service(service), make_aware_local(service, DAY, T(12)))
    return first, second


def attachment_rows(message):
    ((name, content, mimetype),) = message.attachments
    assert name.endswith(".xlsx") and mimetype == services.XLSX_MIME
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


@pytest.mark.django_db
class TestHandoffSend:
    def test_sends_the_day_as_xlsx(
        self, service, consultant, day_requests, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            run = services.handoff_send(service=service, date=DAY)
            assert mail.outbox == []
        assert run.request_count == 2 and run.sent_at is not None
        assert run.recipients == ["university@example.org"]
        (message,) = mail.outbox
        assert message.to == ["university@example.org"] and "10.03.2026" in message.subject
        rows = attachment_rows(message)
        assert rows[0] == HANDOFF_COLUMNS
        assert rows[1][:6] == [
            1,
            dt.datetime(2026, 3, 10, 0, 5),
            "Сейткали Айгерим Болатовна",
            "900101400123",
            "+77010000001",
            "Алматы",
        ]
        assert rows[1][6] is None and rows[1][7] is None
        assert rows[2][0] == 2 and rows[2][2] == "Ким Ольга"
        assert rows[2][6] == dt.datetime(2026, 3, 12, 15, 0)
        assert rows[2][7] == consultant.display_name
        assert len(rows) == 3
        event = AuditEvent.objects.get(event_type="handoff.sent")
        assert event.extra == {"date": "2026-03-10", "request_count": 2}

    def test_second_call_sends_nothing_new(
        self, service, day_requests, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            first = services.handoff_send(service=service, date=DAY)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            again = services.handoff_send(service=service, date=DAY)
        assert again.pk == first.pk and again.sent_at == first.sent_at
        assert callbacks == [] and len(mail.outbox) == 1
        assert HandoffRun.objects.count() == 1

    def test_stores_the_mail_before_anything_is_sent(
        self, service, day_requests, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            run = services.handoff_send(service=service, date=DAY)
            (stored,) = Notification.objects.all()
            assert mail.outbox == [] and stored.status == Notification.Status.QUEUED
            assert run.notification_id == stored.pk
            assert stored.channel == "email" and stored.recipient == "university@example.org"
            assert stored.kind == "handoff" and "10.03.2026" in stored.subject
            (attachment,) = stored.attachments.all()
            assert attachment.filename == "requests-2026-03-10.xlsx"
            assert attachment.mimetype == services.XLSX_MIME
        stored.refresh_from_db()
        assert stored.status == Notification.Status.SENT and stored.attempts == 1
        (message,) = mail.outbox
        assert message.subject == stored.subject and message.body == stored.body
        ((name, content, _mimetype),) = message.attachments
        assert name == attachment.filename and content == bytes(attachment.content)

    def test_failed_smtp_is_kept_as_failed_then_delivered_once(
        self, service, day_requests, django_capture_on_commit_callbacks, settings
    ):
        # A real SMTP connection to a port where nothing listens.
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 5
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        with django_capture_on_commit_callbacks(execute=True):
            run = services.handoff_send(service=service, date=DAY)
        stored = run.notification
        stored.refresh_from_db()
        assert stored.status == Notification.Status.QUEUED and stored.attempts == 1
        assert stored.last_error == "ConnectionRefusedError"
        # The day counts as handed over: the next tick does not build a second list.
        run.refresh_from_db()
        assert run.sent_at is not None
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert services.handoff_send(service=service, date=DAY).pk == run.pk
        assert callbacks == [] and Notification.objects.count() == 1
        label, later = "notifications.notification", stored.next_attempt_at
        assert outbox_deliver(label, stored.pk) == "queued"  # not due yet: the back-off holds
        assert outbox_deliver(label, stored.pk, now=later) == "queued"
        stored.refresh_from_db()
        assert stored.attempts == 2 and mail.outbox == []
        # The SMTP server is back: the outbox's retry sends it, and only once.
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        later = stored.next_attempt_at
        assert outbox_deliver(label, stored.pk, now=later) == "sent"
        assert outbox_deliver(label, stored.pk, now=later) == "sent"
        stored.refresh_from_db()
        assert stored.status == Notification.Status.SENT and stored.attempts == 3
        (message,) = mail.outbox
        assert message.to == ["university@example.org"]
        assert attachment_rows(message)[1][2] == "Сейткали Айгерим Болатовна"

    def test_empty_day_still_sends_a_list(self, service, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            run = services.handoff_send(service=service, date=DAY)
        assert run.request_count == 0
        assert attachment_rows(mail.outbox[0]) == [HANDOFF_COLUMNS]

    def test_roles_and_missing_address(self, service, coordinator, operator):
        with pytest.raises(PermissionDenied):
            services.handoff_send(service=service, date=DAY, actor=operator)
        assert services.handoff_send(service=service, date=DAY, actor=coordinator).sent_at
        service.handoff_email = ""
        with pytest.raises(DomainError, match="no hand-off e-mail address"):
            services.handoff_send(service=service, date=DAY + dt.timedelta(days=1))


@pytest.mark.django_db
class TestDueHandoffTask:
    def at(self, service, date, hour, minute):
        return make_aware_local(service, date, T(hour, minute))

    def test_sends_only_inside_the_window_and_once(
        self, service, day_requests, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.send_due_handoffs(now=self.at(service, DAY, 17, 44)) == []
            assert tasks.send_due_handoffs(now=self.at(service, DAY, 9, 0)) == []
            sent = tasks.send_due_handoffs(now=self.at(service, DAY, 17, 45))
            assert sent == [HandoffRun.objects.get(service=service, date=DAY).pk]
            assert tasks.send_due_handoffs(now=self.at(service, DAY, 17, 50)) == []
            assert tasks.send_due_handoffs(now=self.at(service, DAY, 18, 0)) == []
        assert len(mail.outbox) == 1
        assert attachment_rows(mail.outbox[0])[1][2] == "Сейткали Айгерим Болатовна"

    def test_window_is_in_the_service_time_zone(self, service):
        # 12:45 UTC is 17:45 in Almaty (UTC+5 since March 2024).
        utc = dt.datetime(2026, 3, 10, 12, 45, tzinfo=dt.UTC)
        assert tasks.handoff_due_date(service=service, now=utc) == DAY
        assert tasks.handoff_due_date(service=service, now=utc - dt.timedelta(minutes=1)) is None

    def test_day_off_without_requests_is_skipped(self, service):
        saturday = D(2026, 3, 14)
        assert tasks.send_due_handoffs(now=self.at(service, saturday, 17, 50)) == []
        registered(service, self.at(service, saturday, 11, 0))
        assert len(tasks.send_due_handoffs(now=self.at(service, saturday, 17, 50))) == 1

    def test_services_without_handoff_are_skipped(self, service):
        service.handoff_time = None
        service.save()
        assert tasks.send_due_handoffs(now=self.at(service, DAY, 17, 50)) == []


@pytest.mark.django_db
class TestSchedulerCommand:
    def test_once_runs_the_beat_tasks(self):
        out = io.StringIO()
        call_command("scheduler", "--once", stdout=out)
        assert "daily-handoff: ok" in out.getvalue()

    def test_a_failing_task_is_logged_without_details(self, monkeypatch, caplog):
        from opora.core.management.commands import scheduler

        def boom(*args, **kwargs):
            raise RuntimeError("900101400123 Сейткали")

        monkeypatch.setattr(tasks.send_due_handoffs, "apply", boom)
        # Other periodic tasks (mail, reminders, messengers) run in the same tick; only ours fails.
        assert scheduler.run_tick()["daily-handoff"] == "error"
        assert "RuntimeError" in caplog.text and "900101400123" not in caplog.text
