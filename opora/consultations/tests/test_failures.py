"""Technical failures as regulation 002 §4.2.1 has them: the consultant reports the reason, the head
decides (accepts and sets or allows the new time, or rejects), the client is told at once, and the
re-provision is counted once (regulation 004)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from opora.accounts.models import Role
from opora.consultations import selectors, services
from opora.consultations.models import Consultation, Protocol, TechnicalFailure, Topic
from opora.consultations.tests.factories import make_live_consultation
from opora.core.errors import DomainError
from opora.core.models import AuditEvent
from opora.demo.factories import make_user
from opora.intake.models import ServiceRequest
from opora.intake.selectors import services_count
from opora.notifications.models import Notification
from opora.notifications.sms import sms_segments
from opora.scheduling.models import Booking
from opora.scheduling.tests.factories import future_working_day, make_slot

pytestmark = pytest.mark.django_db

PROTOCOL = {
    "reason": "Ребёнок не спит по ночам",
    "topic": Topic.FAMILY,
    "solution": "Режим дня",
    "kind": Protocol.Kind.PRIMARY,
}


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


@pytest.fixture
def head(service):
    return make_user(
        Role.HEAD,
        service=service,
        organisation=service.provider_organisation,
        email="head@example.org",
    )


@pytest.fixture
def consultant(service):
    return make_user(
        Role.CONSULTANT,
        service=service,
        organisation=service.provider_organisation,
        email="consultant@example.org",
    )


@pytest.fixture
def live(service, consultant):
    return make_live_consultation(service, consultant)


@pytest.fixture
def later(service, consultant):
    return make_slot(service, consultant, future_working_day(service), dt.time(16))


def _request_status(c: Consultation) -> str:
    return ServiceRequest.objects.get(pk=c.booking.request_id).status


def _report(c, actor, cause=TechnicalFailure.Cause.EQUIPMENT, details=""):
    return services.technical_failure_report(
        actor=actor, consultation=c, cause=cause, details=details
    )


class TestReport:
    def test_nothing_is_moved_the_head_is_alerted_the_client_told_a_new_time_is_coming(
        self, live, consultant, head, later
    ):
        ServiceRequest.objects.filter(pk=live.booking.request_id).update(email="parent@example.org")
        live.booking.request.refresh_from_db()
        failure = _report(live, consultant)
        live.refresh_from_db()
        assert failure.state == TechnicalFailure.State.REPORTED and failure.rebooked is None
        assert live.status == Consultation.Status.FAILED
        # Nothing moved until the head decides, though a free slot exists.
        booking = Booking.objects.get(pk=live.booking_id)
        assert booking.status == Booking.Status.ACTIVE and booking.replaced_by_id is None
        assert _request_status(live) == ServiceRequest.Status.NEW
        alert = Notification.objects.get(kind="technical_failure", recipient="head@example.org")
        assert reverse("consultations:failures") in alert.body
        assert "Оборудование" in alert.body
        told = Notification.objects.get(kind="consultation_failed", channel="sms")
        assert told.recipient == live.booking.request.phone
        assert "по техническим причинам" in told.body
        email = Notification.objects.get(kind="consultation_failed", channel="email")
        assert "новые дату и время" in email.body and email.action_url in email.body
        # The client's private link is in the notice; the SMS stays within two parts.
        assert "/l/" in told.body and sms_segments(told.body) <= 2
        assert AuditEvent.objects.filter(event_type="consultation.technical_failure").exists()

    def test_reason_is_required_other_needs_details(self, live, consultant):
        with pytest.raises(ValidationError):
            _report(live, consultant, cause="")
        with pytest.raises(ValidationError) as e:
            _report(live, consultant, cause=TechnicalFailure.Cause.OTHER)
        assert "__all__" in e.value.message_dict
        assert not TechnicalFailure.objects.exists()
        failure = _report(live, consultant, cause=TechnicalFailure.Cause.OTHER, details="Нет света")
        assert failure.details == "Нет света"

    def test_closed_or_reported_twice_refused(self, live, consultant):
        _report(live, consultant)
        with pytest.raises(DomainError) as e:
            _report(live, consultant)
        assert e.value.code == "closed"
        assert TechnicalFailure.objects.count() == 1

    def test_another_consultant_may_not(self, service, live):
        other = make_user(Role.CONSULTANT, service=service)
        with pytest.raises(PermissionDenied):
            _report(live, other)

    def test_database_allows_one_open_failure_per_consultation(self, live, consultant):
        failure = _report(live, consultant)
        with pytest.raises(IntegrityError), transaction.atomic():
            TechnicalFailure.objects.create(
                consultation=live, cause="platform", reported_by=consultant
            )
        # A closed one does not count.
        TechnicalFailure.objects.filter(pk=failure.pk).update(
            state="rejected", rejection_reason="x", decided_at=timezone.now()
        )
        TechnicalFailure.objects.create(consultation=live, cause="platform", reported_by=consultant)

    def test_database_checks_the_states(self, live, consultant):
        with pytest.raises(IntegrityError), transaction.atomic():
            TechnicalFailure.objects.create(
                consultation=live,
                cause="platform",
                reported_by=consultant,
                state="rejected",
                decided_at=timezone.now(),
            )
        with pytest.raises(IntegrityError), transaction.atomic():
            TechnicalFailure.objects.create(
                consultation=live,
                cause="platform",
                reported_by=consultant,
                state="rebooked",
                decided_at=timezone.now(),
            )


def test_no_reminder_while_a_new_time_is_coming(service, consultant, head):
    """The hour-before reminder would contradict "a new time is coming"."""
    from opora.scheduling.reminders import reminders_send_due

    c = make_live_consultation(service, consultant, starts_in=dt.timedelta(minutes=50))
    _report(c, consultant)
    assert reminders_send_due() == 0
    assert not Notification.objects.filter(kind__startswith="reminder").exists()


class TestAccept:
    def test_head_sets_the_new_time_client_told_counted_once(
        self, service, live, consultant, head, later
    ):
        failure = _report(live, consultant)
        failure = services.technical_failure_accept(actor=head, failure=failure, slot=later)
        assert failure.state == TechnicalFailure.State.REBOOKED
        assert failure.decided_by == head and failure.rebooked.slot == later
        old = Booking.objects.get(pk=live.booking_id)
        assert old.status == Booking.Status.RESCHEDULED and old.replaced_by == failure.rebooked
        assert _request_status(live) == ServiceRequest.Status.BOOKED
        # The client is told the new time, with the link, by the booking's notice.
        moved = Notification.objects.get(kind="booking_rescheduled", channel="sms")
        assert later.starts_at.astimezone(service.tz).strftime("%H:%M") in moved.body
        assert "/l/" in moved.body
        # The consultant hears the decision.
        assert Notification.objects.filter(
            kind="failure_decision", recipient="consultant@example.org"
        ).exists()
        again = Consultation.objects.get(booking=failure.rebooked)
        assert again.reprovision_of == failure
        services.consultation_admit(consultation_id=again.pk, actor=consultant)
        services.consultation_end(consultation_id=again.pk, actor=consultant)
        services.protocol_save(actor=consultant, consultation=again, **PROTOCOL)
        rows = selectors.journal_consultations(actor=head, service=service)
        assert [c.pk for c in rows] == [again.pk]
        assert selectors.journal_row(1, rows[0])[-1].startswith(selectors.REPROVISION_NOTE)
        now = timezone.now()
        counted = services_count(
            service=service, start=now - dt.timedelta(days=1), end=now + dt.timedelta(days=60)
        )
        assert (counted.requests, counted.services) == (1, 1)

    def test_the_consultant_picks_when_allowed(self, live, consultant, head, later):
        failure = _report(live, consultant)
        with pytest.raises(DomainError) as e:
            services.technical_failure_pick_time(actor=consultant, failure=failure, slot=later)
        assert e.value.code == "not_accepted"
        failure = services.technical_failure_accept(
            actor=head, failure=failure, consultant_picks=True
        )
        assert failure.state == TechnicalFailure.State.ACCEPTED and failure.consultant_picks
        told = Notification.objects.get(kind="failure_decision")
        assert reverse("consultations:failure_pick", args=[failure.pk]) in told.body
        failure = services.technical_failure_pick_time(
            actor=consultant, failure=failure, slot=later
        )
        assert failure.state == TechnicalFailure.State.REBOOKED and failure.rebooked.slot == later
        assert Notification.objects.filter(kind="booking_rescheduled").exists()

    def test_only_a_head_of_the_service_decides_and_once(
        self, service, live, consultant, head, later
    ):
        failure = _report(live, consultant)
        for who in (consultant, make_user(Role.HEAD), make_user(Role.OPERATOR, service=service)):
            with pytest.raises(PermissionDenied):
                services.technical_failure_accept(actor=who, failure=failure, slot=later)
        with pytest.raises(DomainError) as e:
            services.technical_failure_accept(actor=head, failure=failure)
        assert e.value.code == "no_slot"
        services.technical_failure_accept(actor=head, failure=failure, slot=later)
        with pytest.raises(DomainError) as e:
            services.technical_failure_accept(actor=head, failure=failure, slot=later)
        assert e.value.code == "decided"
        with pytest.raises(DomainError):
            services.technical_failure_reject(actor=head, failure=failure, reason="нет")
        assert Booking.objects.filter(replaced_by__isnull=False).count() == 1

    def test_moved_meanwhile_the_accept_links_that_booking_without_a_second_move(
        self, service, live, consultant, head, later, operator
    ):
        from opora.scheduling.services import booking_reschedule

        failure = _report(live, consultant)
        moved = booking_reschedule(actor=operator, booking=live.booking, slot=later)
        failure = services.technical_failure_accept(actor=head, failure=failure)
        assert failure.state == TechnicalFailure.State.REBOOKED and failure.rebooked == moved
        assert Consultation.objects.get(booking=moved).reprovision_of == failure
        assert Booking.objects.filter(request_id=live.booking.request_id).count() == 2

    def test_a_taken_slot_leaves_the_failure_waiting(self, service, live, consultant, head, later):
        from opora.core.errors import Conflict
        from opora.scheduling.tests.factories import make_request

        failure = _report(live, consultant)
        Booking.objects.create(slot=later, request=make_request(service))
        with pytest.raises(Conflict):
            services.technical_failure_accept(actor=head, failure=failure, slot=later)
        failure.refresh_from_db()
        assert failure.state == TechnicalFailure.State.REPORTED


class TestReject:
    def test_before_the_end_it_is_held_as_booked(self, live, consultant, head):
        failure = _report(live, consultant)
        with pytest.raises(ValidationError):
            services.technical_failure_reject(actor=head, failure=failure, reason="  ")
        failure = services.technical_failure_reject(
            actor=head, failure=failure, reason="Проведите по телефону"
        )
        assert failure.state == TechnicalFailure.State.REJECTED
        live.refresh_from_db()
        assert live.status == Consultation.Status.WAITING and live.ended_at is None
        assert _request_status(live) == ServiceRequest.Status.BOOKED
        assert selectors.link_problem(live) is None  # the client's link opens the room again
        told = Notification.objects.get(kind="failure_rejected_as_planned", channel="sms")
        assert "/l/" in told.body and "как назначено" in told.body
        assert sms_segments(told.body) <= 2
        decision = Notification.objects.get(kind="failure_decision")
        assert "Проведите по телефону" in decision.body
        # Held as booked, it is an ordinary consultation: the journal counts it.
        services.consultation_admit(consultation_id=live.pk, actor=consultant)
        services.consultation_end(consultation_id=live.pk, actor=consultant)
        services.protocol_save(actor=consultant, consultation=live, **PROTOCOL)
        assert _request_status(live) == ServiceRequest.Status.DONE

    def test_after_the_end_it_stays_not_held_by_the_consultants_fault(
        self, service, consultant, head
    ):
        c = make_live_consultation(service, consultant, starts_in=dt.timedelta(minutes=-50))
        failure = _report(c, consultant)
        # The head decides after the booked hour is over.
        slot = c.booking.slot
        type(slot).objects.filter(pk=slot.pk).update(
            ends_at=timezone.now() - dt.timedelta(minutes=1)
        )
        failure = services.technical_failure_reject(
            actor=head, failure=failure, reason="Неуважительно"
        )
        c.refresh_from_db()
        assert c.status == Consultation.Status.FAILED
        assert _request_status(c) == ServiceRequest.Status.NEW
        assert not Notification.objects.filter(kind="failure_rejected_as_planned").exists()
        assert not Consultation.objects.filter(reprovision_of=failure).exists()
        assert (
            AuditEvent.objects.get(event_type="consultation.failure_rejected").extra[
                "held_as_planned"
            ]
            is False
        )


class TestPages:
    def test_the_room_form_reports_it(self, client, live, consultant, head):
        client.force_login(consultant)
        url = reverse("consultations:failure", args=[live.pk])
        assert client.post(url, {"cause": "other"}).status_code == 302
        assert not TechnicalFailure.objects.exists()
        client.post(url, {"cause": "equipment"})
        assert TechnicalFailure.objects.get().consultation == live

    def test_head_list_accept_and_reject(self, client, service, live, consultant, head, later):
        failure = _report(live, consultant)
        client.force_login(consultant)
        assert client.get(reverse("consultations:failures")).status_code == 403
        client.force_login(head)
        page = client.get(reverse("consultations:failures"))
        html = page.content.decode()
        assert page.status_code == 200 and f'id="failure-{failure.pk}"' in html
        assert f'value="{later.pk}"' in html
        accept = reverse("consultations:failure_accept", args=[failure.pk])
        assert client.post(accept, {}).status_code == 302
        failure.refresh_from_db()
        assert failure.state == "reported"
        client.post(accept, {"slot": str(later.pk)})
        failure.refresh_from_db()
        assert failure.state == "rebooked" and failure.rebooked.slot_id == later.pk
        html = client.get(reverse("consultations:failures")).content.decode()
        assert f'id="failure-{failure.pk}-new"' in html

    def test_consultant_pick_page(self, client, live, consultant, head, later):
        failure = _report(live, consultant)
        services.technical_failure_accept(actor=head, failure=failure, consultant_picks=True)
        url = reverse("consultations:failure_pick", args=[failure.pk])
        client.force_login(consultant)
        assert f'value="{later.pk}"' in client.get(url).content.decode()
        assert client.post(url, {"slot": str(later.pk)}).status_code == 302
        failure.refresh_from_db()
        assert failure.state == "rebooked"

    def test_from_the_day_the_failed_consultation_leads_to_the_new_time_page(
        self, client, service, live, consultant
    ):
        failure = _report(live, consultant)
        url = reverse("consultations:failure_new_time", args=[live.pk])
        client.force_login(make_user(Role.CONSULTANT, service=service))
        assert client.get(url).status_code == 403
        client.force_login(consultant)
        response = client.get(url)
        assert response["Location"] == reverse("consultations:failure_pick", args=[failure.pk])
        assert 'id="pick-wait"' in client.get(response["Location"]).content.decode()
