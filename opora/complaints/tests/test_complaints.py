"""Complaints (regulation 000 §15–19): numbers, deadlines by the service's calendar, a reviewer who
is not the consultant complained about, a refusal that reveals nothing, the answer through the
outbox, the disagreement that reopens the complaint to the authority, audited reads."""

import datetime as dt
import zoneinfo

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from opora.accounts.models import Role
from opora.complaints import deadlines, regulation, selectors, services
from opora.complaints.models import Complaint, ComplaintEvent, ComplaintSettings
from opora.consultations.models import Protocol, Recording, RecordingRelease
from opora.consultations.tests.factories import make_live_consultation
from opora.core.actors import SystemActor
from opora.core.errors import DomainError, PermissionDenied
from opora.core.models import AuditEvent
from opora.demo.factories import make_user
from opora.intake.models import ServiceRequest
from opora.notifications.models import Notification

pytestmark = pytest.mark.django_db

PORTAL = SystemActor(name="complaints.portal")
ALMATY = zoneinfo.ZoneInfo("Asia/Almaty")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def consultation(service, consultant):
    c = make_live_consultation(service, consultant)
    ServiceRequest.objects.filter(pk=c.booking.request_id).update(public_code="ABCD-2345")
    return c


@pytest.fixture
def authority(service):
    return make_user(Role.AUTHORITY, organisation=service.authority)


def file(service, consultation=None, **kw):
    args = {
        "actor": PORTAL,
        "service": service,
        "channel": Complaint.Channel.PORTAL,
        "text": "Консультант не дослушал.",
        "complainant_name": "Тестова Мария",
        "phone": consultation.booking.request.phone if consultation else "+77010009999",
        "email": "parent@example.org",
        "request_code": "ABCD-2345" if consultation else "",
        "consent": True,
    }
    args.update(kw)
    return services.complaint_register(**args)


class TestRegistration:
    def test_number_and_hashed_follow_code(self, service, consultation):
        complaint, code = file(service, consultation)
        year = deadlines.local_date(service).year
        assert complaint.number == f"Ж-{year}-0001"
        assert complaint.request_id == consultation.booking.request_id
        assert complaint.consultation_id == consultation.pk
        assert len(code.replace("-", "")) == 16  # 31^16 ≈ 2^79
        assert code not in complaint.follow_code_hash
        assert complaint.follow_code_hash == services.hash_follow_code(code.lower())
        second, _ = file(service)
        assert second.number == f"Ж-{year}-0002"
        assert list(complaint.events.values_list("kind", flat=True)) == ["registered"]

    def test_the_database_refuses_a_second_number(self, service):
        complaint, _ = file(service)
        clone = Complaint.objects.get(pk=complaint.pk)
        clone.pk = None
        clone.follow_code_hash = None
        with pytest.raises(IntegrityError), transaction.atomic():
            clone.save()

    def test_the_database_refuses_an_anonymous_complaint_without_a_code(self, service):
        complaint, _ = file(service)
        with pytest.raises(IntegrityError), transaction.atomic():
            Complaint.objects.filter(pk=complaint.pk).update(
                is_anonymous=True, complainant_name="", follow_code_hash=None
            )

    def test_anonymous_only_where_the_service_allows(self, service):
        with pytest.raises(DomainError) as e:
            file(service, is_anonymous=True)
        assert e.value.code == "anonymous_not_allowed"
        ComplaintSettings.objects.create(service=service, answer_days=15, allows_anonymous=True)
        complaint, code = file(service, is_anonymous=True)
        assert complaint.is_anonymous and complaint.complainant_name == ""
        assert complaint.phone == "" and complaint.email == ""
        assert selectors.complaint_by_follow_code(service=service, code=code) == complaint

    def test_portal_needs_consent(self, service):
        with pytest.raises(DomainError) as e:
            file(service, consent=False)
        assert e.value.code == "no_consent"


class TestRefusalRevealsNothing:
    def test_same_refusal_for_a_missing_code_another_phone_and_another_service(
        self, service, consultation
    ):
        from opora.demo.factories import make_district_service

        other_service = make_district_service()
        messages = set()
        for kwargs, svc in (
            ({"request_code": "ZZZZ-9999"}, service),  # no such code
            ({"phone": "+77019998877"}, service),  # a real code, another phone
            ({}, other_service),  # a real code of another service
        ):
            with pytest.raises(DomainError) as e:
                file(svc, consultation, **kwargs)
            assert e.value.code == "request_not_yours"
            messages.add(str(e.value.message))
        assert len(messages) == 1
        assert Complaint.objects.count() == 0

    def test_the_page_says_the_same_and_keeps_what_was_typed(self, client, service, consultation):
        url = reverse("complaints:portal_new", args=[service.code])
        answers = []
        for code in ("ABCD-2345", "ZZZZ-9999"):
            r = client.post(
                url,
                {
                    "phone": "+77019998877",
                    "full_name": "Тестова Мария",
                    "request_code": code,
                    "text": "Жалоба",
                    "consent": "on",
                },
            )
            assert r.status_code == 400
            assert "Жалоба" in r.content.decode()
            answers.append(r.content.decode().split('id="refusal"')[1].split("</div>")[0])
        assert answers[0] == answers[1]
        assert "не нашли консультацию с этим кодом" in answers[0]
        assert Complaint.objects.count() == 0


class TestDeadlines:
    def test_working_days_skip_independence_day(self, service):
        ComplaintSettings.objects.create(service=service, answer_days=3, working_days=True)
        # Monday 14 December 2026; 16 December is Independence Day in Kazakhstan.
        at = dt.datetime(2026, 12, 14, 10, tzinfo=ALMATY)
        complaint, _ = file(service, registered_at=at)
        assert complaint.registered_on == dt.date(2026, 12, 14)
        assert complaint.due_on == dt.date(2026, 12, 18)  # 15, (16 off), 17, 18

    def test_calendar_days(self, service):
        ComplaintSettings.objects.create(service=service, answer_days=3, working_days=False)
        at = dt.datetime(2026, 12, 14, 10, tzinfo=ALMATY)
        complaint, _ = file(service, registered_at=at)
        assert complaint.due_on == dt.date(2026, 12, 17)

    def test_country_default(self, service):
        at = dt.datetime(2026, 12, 14, 10, tzinfo=ALMATY)
        complaint, _ = file(service, registered_at=at)
        # 15 working days: 16 December, 1–2 January (the 2nd, a Saturday, observed on Monday
        # the 4th), 7 January (Orthodox Christmas) and the weekends are skipped.
        assert complaint.due_on == dt.date(2027, 1, 8)

    def test_recording_is_due_in_three_working_days_across_the_holiday(
        self, service, consultation, head
    ):
        complaint, _ = file(service, consultation)
        services.complaint_assign(actor=head, complaint=complaint, reviewer=head)
        at = dt.datetime(2026, 12, 15, 11, tzinfo=ALMATY)
        complaint = services.complaint_request_recording(
            actor=head, complaint=complaint, requested_at=at
        )
        # Tuesday the 15th; the 16th is off: 17, 18, then Monday the 21st.
        assert complaint.recording_due_on == dt.date(2026, 12, 21)
        assert complaint.recording_requested_on == dt.date(2026, 12, 15)

    def test_the_written_request_is_dated_from_its_receipt(self, service, consultation, head):
        at = dt.datetime(2026, 12, 14, 10, tzinfo=ALMATY)
        complaint, _ = file(service, consultation, registered_at=at)
        services.complaint_assign(actor=head, complaint=complaint, reviewer=head)
        later = dt.datetime(2026, 12, 18, 10, tzinfo=ALMATY)
        with pytest.raises(DomainError) as e:  # before the complaint existed
            services.complaint_request_recording(
                actor=head,
                complaint=complaint,
                requested_at=later,
                requested_on=dt.date(2026, 12, 11),
            )
        assert e.value.code == "bad_request_date"
        complaint = services.complaint_request_recording(
            actor=head, complaint=complaint, requested_at=later, requested_on=dt.date(2026, 12, 15)
        )
        # Received on the 15th, entered on the 18th: the clock runs from the receipt.
        assert complaint.recording_due_on == dt.date(2026, 12, 21)
        assert regulation.SECTION_19.startswith("19. В случаях несогласия клиента")
        assert "3-х рабочих дней" in regulation.SECTION_19


class TestReviewer:
    def test_the_consultant_complained_about_is_refused(self, service, consultation, head):
        consultant = consultation.booking.slot.consultant
        # Even a consultant who is also a head of the service.
        consultant.role = Role.HEAD
        consultant.save()
        complaint, _ = file(service, consultation)
        with pytest.raises(DomainError) as e:
            services.complaint_assign(actor=head, complaint=complaint, reviewer=consultant)
        assert e.value.code == "reviewer_is_consultant"
        assert "cannot review" in str(e.value.message)
        complaint.refresh_from_db()
        assert complaint.reviewer is None and complaint.status == "registered"
        services.complaint_assign(actor=head, complaint=complaint, reviewer=head)
        complaint.refresh_from_db()
        assert complaint.reviewer == head and complaint.status == "under_review"

    def test_the_protocols_author_is_refused_too(self, service, consultation, head, coordinator):
        consultation.refresh_from_db()
        Protocol.objects.create(
            consultation=consultation,
            reason="r",
            topic="1",
            solution="s",
            kind="primary",
            written_by=coordinator,
        )
        complaint, _ = file(service, consultation)
        with pytest.raises(DomainError):
            services.complaint_assign(actor=head, complaint=complaint, reviewer=coordinator)

    def test_only_a_head_assigns(self, service, consultation, head, coordinator):
        complaint, _ = file(service, consultation)
        with pytest.raises(PermissionDenied):
            services.complaint_assign(actor=coordinator, complaint=complaint, reviewer=head)

    def test_the_page_shows_the_refusal(self, client, service, consultation, head):
        consultant = consultation.booking.slot.consultant
        consultant.role = Role.COORDINATOR
        consultant.save()
        complaint, _ = file(service, consultation)
        client.force_login(head)
        url = reverse("complaints:detail", args=[complaint.pk])
        r = client.post(url, {"action": "assign", "reviewer": consultant.pk})
        assert "консультант, на которого подана жалоба" in r.content.decode()


class TestAnswerAndDispute:
    def test_answer_is_stored_and_sent_through_the_outbox(
        self, service, consultation, head, django_capture_on_commit_callbacks
    ):
        complaint, code = file(service, consultation)
        services.complaint_assign(actor=head, complaint=complaint, reviewer=head)
        with django_capture_on_commit_callbacks(execute=False):
            complaint = services.complaint_answer(
                actor=head, complaint=complaint, answer="Проверили запись; приносим извинения."
            )
        assert complaint.status == "answered" and complaint.answered_at is not None
        rows = Notification.objects.filter(
            subject_type="complaints.complaint", subject_id=str(complaint.pk)
        )
        assert {n.channel for n in rows} == {"sms", "email"}
        email = rows.get(channel="email")
        assert email.recipient == "parent@example.org"
        assert "Проверили запись" in email.body and complaint.number in email.subject
        assert rows.get(channel="sms").recipient == complaint.phone

    def test_only_the_reviewer_answers(self, service, consultation, head, coordinator):
        complaint, _ = file(service, consultation)
        services.complaint_assign(actor=head, complaint=complaint, reviewer=head)
        with pytest.raises(PermissionDenied):
            services.complaint_answer(actor=coordinator, complaint=complaint, answer="x")

    def test_disagreement_reopens_it_to_the_authority(
        self, client, service, consultation, head, authority
    ):
        complaint, code = file(service, consultation)
        services.complaint_assign(actor=head, complaint=complaint, reviewer=head)
        services.complaint_answer(actor=head, complaint=complaint, answer="Ответ службы.")
        r = client.post(
            reverse("complaints:portal_disagree", args=[service.code]),
            {"code": code, "text": "Не согласна."},
        )
        assert r.status_code == 200
        complaint.refresh_from_db()
        assert complaint.status == "disputed" and complaint.reviewer is None
        assert complaint.disagreement == "Не согласна."
        # The authority sees it waiting, takes it, and answers.
        overview, _ = selectors.authority_overview(actor=authority)
        assert overview[0].counts["disputed"] == 1
        assert [row.complaint for row in overview[0].disputed] == [complaint]
        services.complaint_assign(actor=authority, complaint=complaint, reviewer=authority)
        complaint.refresh_from_db()
        assert complaint.stage == "authority" and complaint.status == "under_review"
        services.complaint_answer(actor=authority, complaint=complaint, answer="Ответ органа.")
        complaint.refresh_from_db()
        with pytest.raises(DomainError):  # only the service's answer is disputed here
            services.complaint_dispute(complaint=complaint, text="")
        kinds = list(
            ComplaintEvent.objects.filter(complaint=complaint).values_list("kind", flat=True)
        )
        assert kinds == ["registered", "assigned", "answered", "disputed", "assigned", "answered"]

    def test_the_authority_sees_counts_only_until_it_reviews(
        self, client, service, consultation, authority
    ):
        complaint, _ = file(service, consultation)
        client.force_login(authority)
        r = client.get(reverse("complaints:authority"))
        page = r.content.decode()
        assert r.status_code == 200
        assert complaint.number not in page and "Тестова" not in page
        assert client.get(reverse("complaints:detail", args=[complaint.pk])).status_code == 403

    def test_the_consultant_complained_about_cannot_open_it(self, client, service, consultation):
        complaint, _ = file(service, consultation)
        client.force_login(consultation.booking.slot.consultant)
        assert client.get(reverse("complaints:detail", args=[complaint.pk])).status_code == 403


class TestAuditedReads:
    def test_each_part_of_the_case_file_is_read_with_the_complaint_as_reason(
        self, client, service, consultation, head
    ):
        consultation.refresh_from_db()
        Protocol.objects.create(
            consultation=consultation,
            reason="r",
            topic="1",
            solution="s",
            kind="primary",
            written_by=consultation.booking.slot.consultant,
        )
        complaint, _ = file(service, consultation)
        services.complaint_assign(actor=head, complaint=complaint, reviewer=head)
        client.force_login(head)
        r = client.get(reverse("complaints:detail", args=[complaint.pk]))
        assert r.status_code == 200
        reads = AuditEvent.objects.filter(event_type="complaint.case_read", actor=head)
        assert {e.subject_type for e in reads} == {
            "intake.servicerequest",
            "scheduling.booking",
            "consultations.consultation",
            "consultations.protocol",
        }
        assert all(e.extra["reason"] == "complaint" for e in reads)
        assert all(e.extra["complaint_id"] == complaint.pk for e in reads)
        assert AuditEvent.objects.filter(
            event_type="complaint.viewed", subject_id=str(complaint.pk)
        ).exists()

    def test_request_recording_creates_the_hand_over(self, service, consultation, head):
        recording = Recording.objects.create(
            consultation=consultation,
            started_by=consultation.booking.slot.consultant,
            policy="notice",
            status="finished",
            key_id="k",
            wrapped_key=b"x",
        )
        complaint, _ = file(service, consultation)
        services.complaint_assign(actor=head, complaint=complaint, reviewer=head)
        complaint = services.complaint_request_recording(actor=head, complaint=complaint)
        release = RecordingRelease.objects.get(recording=recording)
        assert release.complaint_ref == complaint.number
        assert release.due_on == complaint.recording_due_on
        assert AuditEvent.objects.filter(event_type="complaint.recording_requested").exists()


class TestStaffEntry:
    def test_paper_letter_by_a_coordinator(self, client, service, coordinator):
        client.force_login(coordinator)
        r = client.post(
            reverse("complaints:new"),
            {"channel": "paper", "full_name": "Тестов Иван", "text": "Письмо.", "phone": ""},
        )
        assert r.status_code == 302
        complaint = Complaint.objects.get()
        assert complaint.channel == "paper" and complaint.created_by == coordinator
        assert complaint.follow_code_hash is None

    def test_letter_hook(self, service, coordinator):
        assert services.looks_like_complaint("Жалоба на консультанта", "")
        complaint = services.complaint_from_letter(
            actor=coordinator,
            service=service,
            sender_email="parent@example.org",
            sender_name="Тестова Мария",
            text="Письмо с жалобой.",
        )
        assert complaint.channel == "email" and complaint.email == "parent@example.org"

    def test_the_list_highlights_overdue(self, client, service, head):
        at = dt.datetime(2025, 1, 10, 10, tzinfo=ALMATY)
        complaint, _ = file(service, registered_at=at)
        client.force_login(head)
        page = client.get(reverse("complaints:list")).content.decode()
        row = page.split(f'id="complaint-row-{complaint.pk}"')[1].split("</tr>")[0]
        assert "badge--refused" in row and "просрочено" in row


class TestPortalPages:
    def test_a_wrong_follow_code_reveals_nothing(self, client, service):
        complaint, code = file(service)
        url = reverse("complaints:portal_follow", args=[service.code])
        r = client.post(url, {"code": "AAAA-BBBB-CCCC-DDDD"})
        assert r.status_code == 404 and complaint.number not in r.content.decode()
        r = client.post(url, {"code": code})
        assert r.status_code == 200 and complaint.number in r.content.decode()
        assert "no-store" in r["Cache-Control"]
        assert AuditEvent.objects.filter(event_type="complaint.followed").count() == 1

    def test_the_authority_takes_a_disputed_complaint_on_its_page(
        self, client, service, consultation, head, authority
    ):
        complaint, _ = file(service, consultation)
        services.complaint_assign(actor=head, complaint=complaint, reviewer=head)
        services.complaint_answer(actor=head, complaint=complaint, answer="Ответ.")
        services.complaint_dispute(complaint=complaint, text="")
        client.force_login(authority)
        url = reverse("complaints:detail", args=[complaint.pk])
        page = client.get(url).content.decode()
        assert 'id="take-form"' in page and "Тестова" not in page
        assert client.post(url, {"action": "take"}).status_code == 302
        complaint.refresh_from_db()
        assert complaint.reviewer == authority and complaint.stage == "authority"
        page = client.get(url).content.decode()
        assert "Тестова Мария" in page and 'id="answer-form"' in page

    def test_a_head_who_is_the_consultant_does_not_read_the_case(
        self, client, service, consultation
    ):
        consultant = consultation.booking.slot.consultant
        consultant.role = Role.HEAD
        consultant.save()
        complaint, _ = file(service, consultation)
        client.force_login(consultant)
        assert client.get(reverse("complaints:detail", args=[complaint.pk])).status_code == 403
