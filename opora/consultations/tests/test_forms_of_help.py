"""Every form of help is a consultation (issue 12): in person and visiting (a room or an address,
marked held or not), help started now, written consultations; the protocol each form needs."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from opora.consultations import services
from opora.consultations.models import Consultation, Protocol, Topic
from opora.core.errors import Conflict, DomainError
from opora.core.errors import PermissionDenied as CorePermissionDenied
from opora.core.models import AuditEvent
from opora.demo.factories import make_consultant
from opora.intake.models import ServiceRequest
from opora.notifications.models import Notification
from opora.scheduling import services as scheduling
from opora.scheduling.models import Booking, ConsultationForm, Slot
from opora.scheduling.tests.factories import future_working_day, make_request, make_slot

pytestmark = pytest.mark.django_db

PermissionDenied = (DjangoPermissionDenied, CorePermissionDenied)


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


PROTOCOL = {
    "reason": "Ребёнок не спит по ночам",
    "topic": Topic.FAMILY,
    "solution": "Режим дня",
    "kind": Protocol.Kind.PRIMARY,
}


@pytest.fixture
def room(service, coordinator):
    return scheduling.place_create(
        actor=coordinator, service=service, name="Кабинет 1", address="ул. Тестовая, 1"
    )


def _in_person_slot(service, consultant, room, day, time, minutes=60):
    return make_slot(
        service, consultant, day, time, minutes=minutes, form=ConsultationForm.IN_PERSON, place=room
    )


class TestPlacesAndSlots:
    def test_an_in_person_slot_needs_a_room(self, service, consultant, coordinator):
        slot = make_slot(service, consultant, future_working_day(service), dt.time(15))
        with pytest.raises(DomainError) as e:
            scheduling.slot_set_form(actor=coordinator, slot=slot, form=ConsultationForm.IN_PERSON)
        assert e.value.code == "place"
        with pytest.raises(IntegrityError), transaction.atomic():
            Slot.objects.filter(pk=slot.pk).update(form=ConsultationForm.IN_PERSON)

    def test_the_coordinator_sets_the_form_and_room(self, service, consultant, coordinator, room):
        slot = make_slot(service, consultant, future_working_day(service), dt.time(15))
        slot = scheduling.slot_set_form(
            actor=coordinator, slot=slot, form=ConsultationForm.IN_PERSON, place=room
        )
        assert (slot.form, slot.place_id) == ("in_person", room.pk)
        assert AuditEvent.objects.filter(event_type="slot.form_set").exists()

    def test_a_consultant_may_not_manage_places(self, service, consultant):
        with pytest.raises(PermissionDenied):
            scheduling.place_create(actor=consultant, service=service, name="Кабинет 2")

    def test_a_room_taken_at_an_overlapping_time_is_refused(
        self, service, consultant, operator, room
    ):
        day = future_working_day(service)
        other = make_consultant(service)
        first = _in_person_slot(service, consultant, room, day, dt.time(15))
        second = _in_person_slot(service, other, room, day, dt.time(15, 30))
        booking = scheduling.booking_create(
            actor=operator, request=make_request(service), slot=first
        )
        assert booking.place_id == room.pk
        with pytest.raises(Conflict) as e:
            scheduling.booking_create(actor=operator, request=make_request(service), slot=second)
        assert e.value.code == "room_taken"
        assert "Кабинет 1" not in str(e.value.message)  # names the problem, not the data
        # Cancelled, the room is free again.
        scheduling.booking_cancel(actor=operator, booking=booking)
        scheduling.booking_create(actor=operator, request=make_request(service), slot=second)

    def test_a_visit_needs_an_address(self, service, consultant, operator):
        slot = make_slot(
            service, consultant, future_working_day(service), dt.time(15), form="visiting"
        )
        with pytest.raises(DomainError) as e:
            scheduling.booking_create(actor=operator, request=make_request(service), slot=slot)
        assert e.value.code == "visit_address"
        assert not Booking.objects.exists()
        booking = scheduling.booking_create(
            actor=operator,
            request=make_request(service),
            slot=slot,
            visit_address="с. Тестовое, ул. Школьная, 3",
        )
        assert booking.visit_address.startswith("с. Тестовое")


class TestHelpNow:
    def test_an_operator_starts_phone_help_now_and_the_client_is_told(
        self, service, consultant, operator
    ):
        request = make_request(service, email="parent@example.org")
        c = services.consultation_start_now(
            actor=operator, request=request, consultant=consultant, form="phone"
        )
        assert (c.form, c.timing, c.mode) == ("phone", "immediate", "phone")
        assert c.booking.slot.schedule_id is None and not c.booking.slot.is_open
        request.refresh_from_db()
        assert request.status == ServiceRequest.Status.BOOKED
        assert Notification.objects.filter(recipient="parent@example.org").exists()
        assert AuditEvent.objects.filter(event_type="consultation.started_now").exists()

    def test_a_busy_consultant_is_refused(self, service, consultant, operator):
        services.consultation_start_now(
            actor=operator, request=make_request(service), consultant=consultant, form="video"
        )
        with pytest.raises(Conflict) as e:
            services.consultation_start_now(
                actor=operator, request=make_request(service), consultant=consultant, form="chat"
            )
        assert e.value.code == "consultant_busy"

    def test_a_walk_in_is_held_in_person_and_protocolled(self, service, consultant, operator, room):
        request = make_request(service, channel="in_person")
        c = services.consultation_start_now(
            actor=operator, request=request, consultant=consultant, form="in_person", place=room
        )
        assert c.booking.place_id == room.pk
        assert not Notification.objects.exists()  # the client is here: nothing to send
        later = timezone.now() + dt.timedelta(minutes=40)
        c = services.consultation_mark_held(actor=consultant, consultation=c, held=True, now=later)
        assert c.status == Consultation.Status.ENDED
        with pytest.raises(ValidationError) as e:
            services.protocol_save(actor=consultant, consultation=c, **PROTOCOL)
        assert set(e.value.message_dict) == {"duration_minutes", "child_present"}
        assert not Protocol.objects.exists()
        p = services.protocol_save(
            actor=consultant,
            consultation=c,
            **PROTOCOL,
            duration_minutes=40,
            child_present=False,
        )
        request.refresh_from_db()
        assert request.status == ServiceRequest.Status.DONE
        # One protocol per consultation: the database refuses a second one.
        with pytest.raises(IntegrityError), transaction.atomic():
            Protocol.objects.create(
                consultation=c, written_by=consultant, **{**PROTOCOL, "topic": "1"}
            )
        assert Protocol.objects.get().pk == p.pk

    def test_an_in_person_walk_in_needs_a_free_room(self, service, consultant, operator, room):
        services.consultation_start_now(
            actor=operator,
            request=make_request(service),
            consultant=consultant,
            form="in_person",
            place=room,
        )
        with pytest.raises(Conflict) as e:
            services.consultation_start_now(
                actor=operator,
                request=make_request(service),
                consultant=make_consultant(service),
                form="in_person",
                place=room,
            )
        assert e.value.code == "room_taken"
        with pytest.raises(DomainError) as err:
            services.consultation_start_now(
                actor=operator,
                request=make_request(service),
                consultant=make_consultant(service),
                form="in_person",
            )
        assert err.value.code == "place"

    def test_a_visit_not_held_is_a_no_show(self, service, consultant, operator):
        with pytest.raises(DomainError) as e:
            services.consultation_start_now(
                actor=operator,
                request=make_request(service),
                consultant=consultant,
                form="visiting",
            )
        assert e.value.code == "visit_address"
        c = services.consultation_start_now(
            actor=operator,
            request=make_request(service),
            consultant=consultant,
            form="visiting",
            visit_address="г. Тестов, ул. Садовая, 5",
        )
        c = services.consultation_mark_held(
            actor=consultant,
            consultation=c,
            held=False,
            now=timezone.now() + dt.timedelta(minutes=5),
        )
        assert c.status == Consultation.Status.NO_SHOW

    def test_only_the_booked_consultant_marks_it_held(self, service, consultant, operator, room):
        c = services.consultation_start_now(
            actor=operator,
            request=make_request(service),
            consultant=consultant,
            form="in_person",
            place=room,
        )
        with pytest.raises(PermissionDenied):
            services.consultation_mark_held(
                actor=make_consultant(service), consultation=c, held=True
            )


class TestWritten:
    def test_taken_up_answered_and_closed_once_per_request(self, service, consultant):
        request = make_request(service, channel="email")
        c = services.consultation_take_written(actor=consultant, request=request, form="email")
        assert (c.form, c.status) == ("email", Consultation.Status.IN_PROGRESS)
        with pytest.raises(DomainError):
            services.consultation_take_written(actor=consultant, request=request, form="email")
        with pytest.raises(DomainError):
            services.protocol_save(actor=consultant, consultation=c, **PROTOCOL)
        c = services.consultation_close_written(actor=consultant, consultation=c)
        services.protocol_save(actor=consultant, consultation=c, **PROTOCOL)
        assert Consultation.objects.filter(booking__request=request).count() == 1

    def test_materials_at_most_five_pages(self, service, consultant):
        c = services.consultation_take_written(
            actor=consultant, request=make_request(service), form="messenger"
        )
        c = services.consultation_close_written(actor=consultant, consultation=c)
        with pytest.raises(ValidationError) as e:
            services.protocol_save(actor=consultant, consultation=c, **PROTOCOL, materials_pages=6)
        assert "materials_pages" in e.value.message_dict
        p = services.protocol_save(actor=consultant, consultation=c, **PROTOCOL, materials_pages=5)
        assert p.materials_pages == 5

    def test_an_operator_may_not_take_up_a_thread(self, service, operator):
        with pytest.raises(PermissionDenied):
            services.consultation_take_written(
                actor=operator, request=make_request(service), form="email"
            )

    def test_the_clients_recording_notice_is_stored(self, service, consultant, operator):
        c = services.consultation_start_now(
            actor=operator, request=make_request(service), consultant=consultant, form="video"
        )
        c = services.consultation_note_recording(actor=consultant, consultation=c)
        assert c.client_records_notice_at is not None


def test_a_booked_in_person_slot_is_held_face_to_face(service, consultant, operator, room):
    day = future_working_day(service)
    slot = _in_person_slot(service, consultant, room, day, dt.time(15))
    booking = scheduling.booking_create(actor=operator, request=make_request(service), slot=slot)
    c = services.consultation_for_booking(booking=booking)
    assert (c.form, c.timing) == ("in_person", "scheduled")
    with pytest.raises(DomainError) as e:
        services.consultation_mark_held(actor=consultant, consultation=c, held=True)
    assert e.value.code == "too_early"
    c = services.consultation_mark_held(
        actor=consultant, consultation=c, held=True, now=slot.ends_at
    )
    assert c.status == Consultation.Status.ENDED
    # A slot of the schedule keeps its time.
    slot.refresh_from_db()
    assert slot.ends_at == c.ended_at
