import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opora.accounts.models import Role
from opora.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from opora.core.models import AuditEvent, CalendarOverride
from opora.demo.factories import make_consultant, make_service_1411, make_user
from opora.intake.models import ServiceRequest
from opora.notifications.models import Notification, ShortLink
from opora.notifications.sms import sms_segments
from opora.scheduling import selectors, services
from opora.scheduling.models import Booking, Slot
from opora.scheduling.scripts import booking_confirmation_script
from opora.scheduling.tests.factories import future_working_day, make_request, make_slot

T = dt.time


@pytest.fixture
def day(service):
    return future_working_day(service)


@pytest.fixture
def slot(service, consultant, day):
    return make_slot(service, consultant, day, T(15))


@pytest.fixture
def req(service):
    return make_request(service, email="parent@example.org")


@pytest.mark.django_db
class TestCreate:
    def test_books_the_slot(self, service, operator, req, slot):
        booking = services.booking_create(actor=operator, request=req, slot=slot)
        assert booking.status == Booking.Status.ACTIVE and booking.created_by == operator
        req.refresh_from_db()
        assert req.status == ServiceRequest.Status.BOOKED
        event = AuditEvent.objects.get(event_type="booking.created")
        assert event.actor == operator
        assert event.extra == {"request_id": req.pk, "slot_id": slot.pk}  # no personal data

    def test_client_is_told_date_time_join_and_change(
        self, service, operator, consultant, req, slot, day, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            booking = services.booking_create(actor=operator, request=req, slot=slot)
            assert mail.outbox == []  # nothing leaves before commit
        when = day.strftime("%d.%m.%Y")
        sms = Notification.objects.get(channel="sms")
        assert sms.recipient == req.phone and sms.subject_id == str(booking.pk)
        # The SMS is short (≤ 2 parts): date, time, zone, specialist, the link, how to change.
        link = f"/l/{ShortLink.objects.get().code}"
        for text in (when[:5], "15:00", "Astana time", consultant.last_name, link):
            assert text in sms.body
        assert "To change call 1411" in sms.body and sms_segments(sms.body) <= 2
        assert sms.status == Notification.Status.SENT
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["parent@example.org"]
        assert when in message.subject and "15:00" in message.subject
        assert when in message.body and service.join_instructions in message.body
        assert consultant.display_name in message.body and link in message.body
        assert service.change_instructions in message.body

    def test_no_email_without_address(
        self, service, operator, slot, django_capture_on_commit_callbacks
    ):
        req = make_request(service)
        with django_capture_on_commit_callbacks(execute=True):
            services.booking_create(actor=operator, request=req, slot=slot)
        assert mail.outbox == []
        assert Notification.objects.filter(channel="sms").count() == 1

    def test_operator_script(self, service, operator, consultant, req, slot, day):
        booking = services.booking_create(actor=operator, request=req, slot=slot)
        script = booking_confirmation_script(booking)
        assert day.strftime("%d.%m.%Y") in script and "15:00" in script
        assert consultant.display_name in script and "Astana time" in script
        assert "Right now you will receive an SMS" in script
        assert service.change_instructions in script  # no self-booking: change by phone

    def test_past_slot(self, service, operator, consultant, req):
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        slot = make_slot(service, consultant, yesterday, T(15))
        with pytest.raises(DomainError, match="in the past") as info:
            services.booking_create(actor=operator, request=req, slot=slot)
        assert info.value.code == "slot_in_past" and info.value.http_status == 400

    def test_day_that_became_a_day_off(self, service, operator, req, slot, day):
        CalendarOverride.objects.create(service=service, date=day, is_working_day=False)
        with pytest.raises(DomainError, match="not a working day") as info:
            services.booking_create(actor=operator, request=req, slot=slot)
        assert day.strftime("%d.%m.%Y") in str(info.value.message)
        assert info.value.code == "not_working_day"

    def test_weekend_slot(self, service, operator, consultant, req, day):
        saturday = day + dt.timedelta(days=(5 - day.weekday()) % 7)
        slot = make_slot(service, consultant, saturday, T(15))
        with pytest.raises(DomainError, match="not a working day"):
            services.booking_create(actor=operator, request=req, slot=slot)

    @pytest.mark.parametrize("start", [T(12), T(17, 30), T(9)])
    def test_outside_consultation_hours(self, service, operator, consultant, req, day, start):
        slot = make_slot(service, consultant, day, start)
        with pytest.raises(DomainError, match="outside the consultation hours 14:00–18:00") as e:
            services.booking_create(actor=operator, request=req, slot=slot)
        assert e.value.code == "outside_hours"

    def test_closed_slot(self, service, operator, consultant, req, day):
        slot = make_slot(service, consultant, day, T(16), is_open=False)
        with pytest.raises(DomainError, match="closed") as info:
            services.booking_create(actor=operator, request=req, slot=slot)
        assert info.value.code == "slot_closed"

    def test_taken_slot_is_a_conflict(self, service, operator, req, slot):
        services.booking_create(actor=operator, request=req, slot=slot)
        with pytest.raises(Conflict, match="This time has just been taken; pick another slot"):
            services.booking_create(actor=operator, request=make_request(service), slot=slot)
        assert Booking.objects.count() == 1

    def test_database_settles_a_race(self, service, operator, req, slot):
        """Even if the slot's booked flag were wrong, the partial unique index wins."""
        services.booking_create(actor=operator, request=req, slot=slot)
        Slot.objects.filter(pk=slot.pk).update(is_booked=False)  # a stale flag: no early answer
        late = make_request(service)
        with pytest.raises(Conflict) as info:
            services.booking_create(actor=operator, request=late, slot=slot)
        assert info.value.code == "slot_taken" and info.value.http_status == 409
        assert Booking.objects.filter(slot=slot).count() == 1
        late.refresh_from_db()
        assert late.status == ServiceRequest.Status.NEW
        # The refused insert took the request's status and its audit event with it.
        assert not AuditEvent.objects.filter(extra__request_id=late.pk).exists()
        assert Slot.objects.get(pk=slot.pk).is_booked is False

    def test_a_taken_slot_is_refused_before_any_write(self, service, operator, req, slot):
        services.booking_create(actor=operator, request=req, slot=slot)
        late = make_request(service)
        with CaptureQueriesContext(connection) as queries, pytest.raises(Conflict):
            services.booking_create(actor=operator, request=late, slot=slot)
        writes = [q["sql"] for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "WITH"))]
        assert writes == []

    def test_membership_and_locks_need_no_queries_of_their_own(self, service, operator, req, slot):
        """Permission, request, slot, consultant, service and calendar override: two reads
        before the booking is written."""
        with CaptureQueriesContext(connection) as queries:
            services.booking_create(actor=operator, request=req, slot=slot)
        sql = [q["sql"] for q in queries]
        insert = next(i for i, q in enumerate(sql) if 'INSERT INTO "scheduling_booking"' in q)
        reads = [q for q in sql[:insert] if q.startswith("SELECT")]
        assert len(reads) == 2, reads
        assert "accounts_user_services" in reads[0] and "core_calendaroverride" in reads[1]

    def test_a_day_off_made_a_working_day(self, service, operator, consultant, req, day):
        saturday = day + dt.timedelta(days=(5 - day.weekday()) % 7)
        CalendarOverride.objects.create(service=service, date=saturday, is_working_day=True)
        slot = make_slot(service, consultant, saturday, T(15))
        booking = services.booking_create(actor=operator, request=req, slot=slot)
        assert booking.slot_id == slot.pk

    def test_an_override_of_another_service_does_not_count(
        self, service, operator, consultant, req, slot, day
    ):
        from opora.scheduling.tests.factories import other_service

        CalendarOverride.objects.create(
            service=other_service(service), date=day, is_working_day=False
        )
        assert services.booking_create(actor=operator, request=req, slot=slot).slot_id == slot.pk

    def test_the_local_day_decides_in_another_time_zone(self, db):
        """The override is matched on the slot's local date: 00:30 in Tokyo is still the
        previous day in UTC."""
        service = make_service_1411(code="jp-test", time_zone="Asia/Tokyo", consultation_opens=T(0))
        operator = make_user(Role.OPERATOR, service=service)
        consultant = make_consultant(service)
        day = future_working_day(service)
        CalendarOverride.objects.create(service=service, date=day, is_working_day=False)
        slot = make_slot(service, consultant, day, T(0, 30))
        with pytest.raises(DomainError, match="not a working day"):
            services.booking_create(actor=operator, request=make_request(service), slot=slot)

    def test_an_administrator_books_for_any_service(self, service, req, slot):
        admin = make_user(Role.ADMIN)
        assert not admin.services.exists()
        assert services.booking_create(actor=admin, request=req, slot=slot).created_by == admin

    def test_a_missing_request_or_slot(self, service, operator, req, slot):
        ghost_request = ServiceRequest(pk=10**9, service=service)
        with pytest.raises(NotFound):
            services.booking_create(actor=operator, request=ghost_request, slot=slot)
        with pytest.raises(NotFound):
            services.booking_create(actor=operator, request=req, slot=Slot(pk=10**9))

    def test_request_must_be_new(self, service, operator, consultant, req, slot, day):
        services.booking_create(actor=operator, request=req, slot=slot)
        other = make_slot(service, consultant, day, T(16))
        with pytest.raises(Conflict, match="reschedule"):
            services.booking_create(actor=operator, request=req, slot=other)
        refused = make_request(
            service, status=ServiceRequest.Status.REFUSED, refusal_ground="obscene_language"
        )
        with pytest.raises(DomainError, match="Only a new request"):
            services.booking_create(actor=operator, request=refused, slot=other)

    def test_slot_of_another_service(self, service, operator, req, consultant, day):
        from opora.scheduling.tests.factories import other_service

        other = other_service(service)
        slot = make_slot(other, consultant, day, T(15))
        with pytest.raises(DomainError, match="another service"):
            services.booking_create(actor=operator, request=req, slot=slot)

    @pytest.mark.parametrize("role", [Role.CONSULTANT, Role.AUTHORITY])
    def test_roles(self, service, req, slot, role):
        with pytest.raises(PermissionDenied):
            services.booking_create(actor=make_user(role, service=service), request=req, slot=slot)

    def test_operator_of_another_service_may_not_book(self, req, slot):
        with pytest.raises(PermissionDenied):
            services.booking_create(actor=make_user(Role.OPERATOR), request=req, slot=slot)

    def test_integration_account_with_api_token(self, service, req, slot):
        from opora.accounts.models import ApiToken, hash_token

        robot = make_user("", service=service)
        ApiToken.objects.create(user=robot, key_hash=hash_token("x"), prefix="x")
        booking = services.booking_create(actor=robot, request=req, slot=slot)
        assert booking.created_by == robot


@pytest.mark.django_db
class TestRescheduleAndCancel:
    def test_reschedule_keeps_the_history_chain(
        self, service, operator, consultant, req, slot, day, django_capture_on_commit_callbacks
    ):
        first = services.booking_create(actor=operator, request=req, slot=slot)
        second_slot = make_slot(service, make_consultant(service), day, T(16))
        third_slot = make_slot(service, consultant, day, T(17))
        with django_capture_on_commit_callbacks(execute=True):
            second = services.booking_reschedule(actor=operator, booking=first, slot=second_slot)
        third = services.booking_reschedule(actor=operator, booking=second, slot=third_slot)
        chain = selectors.bookings_for_request(request=req)
        assert [b.pk for b in chain] == [first.pk, second.pk, third.pk]
        assert [b.status for b in chain] == ["rescheduled", "rescheduled", "active"]
        assert chain[0].replaced_by_id == second.pk and chain[1].replaced_by_id == third.pk
        assert chain[0].ended_at is not None
        req.refresh_from_db()
        assert req.status == ServiceRequest.Status.BOOKED
        # The old slots are free again.
        assert (
            services.booking_create(actor=operator, request=make_request(service), slot=slot).status
            == "active"
        )
        moved = Notification.objects.filter(kind="booking_rescheduled", channel="sms").earliest(
            "pk"
        )
        assert "16:00" in moved.body and sms_segments(moved.body) <= 2
        (letter,) = [m for m in mail.outbox if "16:00" in m.subject]
        assert "16:00" in letter.body and "15:00" in letter.body  # the old time is void

    def test_reschedule_to_a_taken_slot_changes_nothing(
        self, service, operator, consultant, req, slot, day
    ):
        first = services.booking_create(actor=operator, request=req, slot=slot)
        taken = make_slot(service, consultant, day, T(16))
        services.booking_create(actor=operator, request=make_request(service), slot=taken)
        with pytest.raises(Conflict):
            services.booking_reschedule(actor=operator, booking=first, slot=taken)
        first.refresh_from_db()
        assert first.status == Booking.Status.ACTIVE and first.replaced_by is None

    def test_reschedule_an_ended_booking(self, service, operator, consultant, req, slot, day):
        first = services.booking_create(actor=operator, request=req, slot=slot)
        services.booking_reschedule(
            actor=operator, booking=first, slot=make_slot(service, consultant, day, T(16))
        )
        with pytest.raises(DomainError, match="only an active booking can be rescheduled"):
            services.booking_reschedule(
                actor=operator, booking=first, slot=make_slot(service, consultant, day, T(17))
            )

    def test_cancel_frees_the_slot(
        self, service, operator, req, slot, django_capture_on_commit_callbacks
    ):
        booking = services.booking_create(actor=operator, request=req, slot=slot)
        with django_capture_on_commit_callbacks(execute=True):
            booking = services.booking_cancel(
                actor=operator, booking=booking, reason="Клиент отказался"
            )
        assert booking.status == Booking.Status.CANCELLED and booking.ended_at
        req.refresh_from_db()
        assert req.status == ServiceRequest.Status.CANCELLED
        event = AuditEvent.objects.get(event_type="booking.cancelled")
        assert "Клиент" not in str(event.extra)
        assert Notification.objects.filter(kind="booking_cancelled").count() == 2
        assert any("cancelled" in m.subject for m in mail.outbox)
        again = services.booking_create(actor=operator, request=make_request(service), slot=slot)
        assert again.status == Booking.Status.ACTIVE
        with pytest.raises(DomainError, match="only an active booking can be cancelled"):
            services.booking_cancel(actor=operator, booking=booking)

    def test_consultant_day(self, service, operator, consultant, req, slot, day):
        booking = services.booking_create(actor=operator, request=req, slot=slot)
        later = make_slot(service, consultant, day, T(17))
        cancelled = services.booking_create(
            actor=operator, request=make_request(service), slot=later
        )
        services.booking_cancel(actor=operator, booking=cancelled)
        assert selectors.consultant_day(consultant=consultant, date=day) == [booking]
        assert selectors.consultant_day(consultant=consultant, date=day + dt.timedelta(1)) == []
        assert selectors.booking_get(booking_id=booking.pk) == booking


@pytest.mark.django_db
def test_booked_flag_follows_the_bookings(service, operator, consultant, slot, day):
    other = make_slot(service, consultant, day, T(16))
    booking = services.booking_create(actor=operator, request=make_request(service), slot=slot)
    slot.refresh_from_db()
    assert slot.is_booked
    moved = services.booking_reschedule(actor=operator, booking=booking, slot=other)
    slot.refresh_from_db()
    other.refresh_from_db()
    assert not slot.is_booked and other.is_booked
    services.booking_cancel(actor=operator, booking=moved)
    other.refresh_from_db()
    assert not other.is_booked


@pytest.mark.django_db
def test_a_consultant_moves_only_their_own_booking_to_their_own_slot(
    service, operator, consultant, slot, day
):
    own_later = make_slot(service, consultant, day, T(16))
    other = make_consultant(service)
    others_slot = make_slot(service, other, day, T(17))
    booking = services.booking_create(actor=operator, request=make_request(service), slot=slot)
    with pytest.raises(PermissionDenied):
        services.booking_reschedule(actor=consultant, booking=booking, slot=others_slot)
    moved = services.booking_reschedule(actor=consultant, booking=booking, slot=own_later)
    assert moved.slot == own_later
    with pytest.raises(PermissionDenied):
        services.booking_reschedule(actor=other, booking=moved, slot=others_slot)


@pytest.mark.django_db(transaction=True)
def test_compiled_lock_queries_read_what_the_orm_reads(service, operator, consultant, day):
    """The lock queries are compiled once and re-run with other ids: each run gives the same
    instances (fields, joined rows, annotations) as the queryset itself."""
    from django.db import transaction

    slots = [make_slot(service, consultant, day, T(h)) for h in (14, 15)]
    requests = [make_request(service), make_request(service, email="x@example.org")]
    CalendarOverride.objects.create(service=service, date=day, is_working_day=True)
    for request, slot in zip(requests, slots, strict=True):
        with transaction.atomic():
            got_request, got_slot = services._lock_request_and_slot(
                request_id=request.pk, slot_id=slot.pk, member_id=operator.pk
            )
            want_request = services._locked_request_query(
                request_id=request.pk, member_id=operator.pk
            ).get()
            want_slot = services._locked_slots_query(slot=slot.pk).get()
        assert got_request.__dict__.keys() >= {"actor_works_here"}
        for got, want in ((got_request, want_request), (got_slot, want_slot)):
            fields = [f.attname for f in type(want)._meta.concrete_fields]
            assert [getattr(got, f) for f in fields] == [getattr(want, f) for f in fields]
        assert got_request.actor_works_here is True
        assert got_request.service.time_zone == want_request.service.time_zone
        assert got_slot.consultant.username == want_slot.consultant.username
        assert got_slot.day_override is True and want_slot.day_override is True
        assert got_slot.local_date == want_slot.local_date == day
        assert got_slot.service is got_request.service
    with pytest.raises(TransactionManagementError):
        services._lock_request_and_slot(request_id=requests[0].pk, slot_id=slots[0].pk)


@pytest.mark.django_db
def test_the_lock_reads_the_slots_local_date_in_the_services_time_zone(service, consultant, day):
    """Just after local midnight it is still the day before in UTC (UTC+5): the calendar override
    is looked up for the local date, in the zone the service row names."""
    from django.db import transaction

    early = make_slot(service, consultant, day, T(0, 30), minutes=30)
    late = make_slot(service, consultant, day, T(23, 30), minutes=30)
    assert early.starts_at.astimezone(dt.UTC).date() == day - dt.timedelta(days=1)
    with transaction.atomic():
        got = {s.pk: s.local_date for s in services._locked_slots_query(a=early.pk, b=late.pk)}
    assert got == {early.pk: day, late.pk: day}


@pytest.mark.django_db
def test_confirmation_email_carries_the_ics(
    service, operator, req, slot, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_create(actor=operator, request=req, slot=slot)
    ((name, content, mimetype),) = mail.outbox[0].attachments
    assert name.endswith(".ics") and mimetype.startswith("text/calendar")
    text = content.decode() if isinstance(content, bytes) else content
    assert (
        "BEGIN:VEVENT" in text
        and slot.starts_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ") in text
    )


@pytest.mark.django_db
def test_consultant_books_only_own_free_time(service, consultant, req, day):
    other = make_consultant(service)
    with pytest.raises(PermissionDenied):
        services.booking_create(
            actor=consultant, request=req, slot=make_slot(service, other, day, T(16))
        )
    own = services.booking_create(
        actor=consultant, request=req, slot=make_slot(service, consultant, day, T(15))
    )
    assert own.status == Booking.Status.ACTIVE
