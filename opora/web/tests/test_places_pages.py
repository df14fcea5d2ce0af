"""Issue 12: the head or the coordinator keep the service's rooms and addresses, and choose the
form (and, in person, the room) of a slot — on a staff screen, not in the administration pages.
Bad input is named: a place without a name, a duplicate, a place in use cannot be deleted."""

import pytest
from django.urls import reverse
from django.utils import translation

from opora.core.errors import DomainError
from opora.core.models import AuditEvent
from opora.demo.factories import make_consultant
from opora.scheduling import services as scheduling
from opora.scheduling.models import Place
from opora.scheduling.services.places import place_check
from opora.scheduling.tests.factories import other_service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


@pytest.fixture
def head_client(client, head):
    client.force_login(head)
    return client


def test_head_adds_edits_and_lists_places(head_client, service):
    page = head_client.get(reverse("place_new"))
    assert page.status_code == 200 and 'id="place-form"' in page.content.decode()
    response = head_client.post(
        reverse("place_new"), {"name": "Кабинет 3", "address": "ул. Абая, 1", "kind": "room"}
    )
    assert response.status_code == 303
    place = Place.objects.get(service=service, name="Кабинет 3")
    assert AuditEvent.objects.filter(event_type="place.created").exists()
    response = head_client.post(
        reverse("place_edit", args=[place.pk]),
        {"name": "Кабинет 3а", "address": "ул. Абая, 1", "kind": "room", "is_active": "on"},
    )
    assert response.status_code == 303
    place.refresh_from_db()
    assert place.name == "Кабинет 3а" and place.is_active
    listing = head_client.get(reverse("place_list")).content.decode()
    assert "Кабинет 3а" in listing and f'id="place-{place.pk}"' in listing


def test_a_place_without_a_name_or_a_duplicate_is_named(head_client, service, head):
    scheduling.place_create(actor=head, service=service, name="Кабинет 1")
    empty = head_client.post(reverse("place_new"), {"name": "  ", "kind": "room"})
    assert empty.status_code == 400
    assert "Назовите" in empty.content.decode() or "name" in empty.content.decode()
    twice = head_client.post(reverse("place_new"), {"name": "кабинет 1", "kind": "room"})
    assert twice.status_code == 400
    assert "Кабинет 1" in twice.content.decode() or "кабинет 1" in twice.content.decode()
    assert Place.objects.filter(service=service).count() == 1


def test_the_service_refuses_a_duplicate_and_an_empty_name(service, head):
    scheduling.place_create(actor=head, service=service, name="Кабинет 1")
    with pytest.raises(DomainError) as err:
        scheduling.place_create(actor=head, service=service, name="Кабинет 1")
    assert err.value.code == "duplicate"
    with pytest.raises(DomainError) as err:
        scheduling.place_create(actor=head, service=service, name="   ")
    assert err.value.code == "name"
    # Another service may have its own «Кабинет 1».
    other = other_service(service, code="kz-places-other")
    place_check(Place(service=other, name="Кабинет 1"))


def test_a_place_in_use_is_deactivated_not_deleted(head_client, service, head, slots):
    room = scheduling.place_create(actor=head, service=service, name="Кабинет 2")
    scheduling.slot_set_form(actor=head, slot=slots[0], form="in_person", place=room)
    refused = head_client.post(reverse("place_deactivate", args=[room.pk]), {"delete": "1"})
    assert refused.status_code == 303
    assert Place.objects.filter(pk=room.pk).exists()
    shown = head_client.get(reverse("place_list")).content.decode()
    assert "нельзя удалить" in shown or "cannot be deleted" in shown
    head_client.post(reverse("place_deactivate", args=[room.pk]))
    room.refresh_from_db()
    assert not room.is_active
    # Out of use: no new slot names it.
    with pytest.raises(DomainError) as err:
        scheduling.slot_set_form(actor=head, slot=slots[1], form="in_person", place=room)
    assert err.value.code == "place"
    unused = scheduling.place_create(actor=head, service=service, name="Ошибочный")
    head_client.post(reverse("place_deactivate", args=[unused.pk]), {"delete": "1"})
    assert not Place.objects.filter(pk=unused.pk).exists()


def test_the_head_chooses_the_form_and_room_of_a_slot(head_client, service, head, slots, slot_day):
    room = scheduling.place_create(actor=head, service=service, name="Кабинет 5")
    day = head_client.get(reverse("place_slots") + f"?date={slot_day:%Y-%m-%d}").content.decode()
    assert f'id="slot-edit-{slots[0].pk}"' in day
    url = reverse("place_slot_edit", args=[slots[0].pk])
    no_room = head_client.post(url, {"form": "in_person", "place": ""})
    assert no_room.status_code == 400
    saved = head_client.post(url, {"form": "in_person", "place": str(room.pk)})
    assert saved.status_code == 303
    slots[0].refresh_from_db()
    assert (slots[0].form, slots[0].place_id) == ("in_person", room.pk)
    head_client.post(url, {"form": "phone", "place": ""})
    slots[0].refresh_from_db()
    assert (slots[0].form, slots[0].place_id) == ("phone", None)


def test_another_services_place_is_refused(head_client, service):
    other = other_service(service, code="kz-places-foreign")
    foreign = Place.objects.create(service=other, name="Чужой кабинет")
    assert head_client.get(reverse("place_edit", args=[foreign.pk])).status_code == 403
    assert head_client.get(reverse("place_edit", args=[999_999])).status_code == 404


def test_a_consultant_may_not_open_the_places(client, service):
    client.force_login(make_consultant(service))
    assert client.get(reverse("place_list")).status_code == 403
