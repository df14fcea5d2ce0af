import base64
import datetime as dt
import hashlib
import hmac

import pytest
from django.urls import reverse
from django.utils import timezone

from opora.accounts.models import Role
from opora.consultations import selectors, services
from opora.consultations.models import ChatMessage, Consultation
from opora.consultations.selectors import LinkProblem, link_problem, turn_credentials
from opora.consultations.tests.factories import make_live_consultation
from opora.core.models import Service
from opora.demo.factories import make_user


@pytest.fixture
def live(service, consultant):
    return make_live_consultation(service, consultant)


def test_turn_credentials_follow_the_coturn_rest_scheme():
    cred = turn_credentials(
        secret="s3cret", urls=["turn:turn.example:3478"], user_id="c7", ttl=600, now=1_000_000
    )
    assert cred["username"] == "1000600:c7"
    expected = hmac.new(b"s3cret", b"1000600:c7", hashlib.sha1).digest()
    assert base64.b64decode(cred["credential"]) == expected
    assert cred["urls"] == ["turn:turn.example:3478"]


def test_ice_servers_add_turn_only_when_configured(settings):
    settings.OPORA_ICE_SERVERS = []
    settings.OPORA_TURN_SECRET = ""
    assert selectors.ice_servers(user_id="u1") == []
    settings.OPORA_TURN_SECRET = "x"
    settings.OPORA_TURN_URLS = ["turn:t.example"]
    servers = selectors.ice_servers(user_id="u1")
    assert servers[0]["urls"] == ["turn:t.example"] and servers[0]["username"].endswith(":u1")


@pytest.mark.django_db
class TestLink:
    def test_one_consultation_per_booking_with_an_unguessable_token(self, live):
        again = services.consultation_for_booking(booking=live.booking)
        assert again.pk == live.pk and len(live.client_token) >= 43

    def test_validity_window(self, live):
        slot = live.booking.slot
        early = slot.starts_at - dt.timedelta(minutes=16)
        assert link_problem(live, now=early) == LinkProblem.EARLY
        assert link_problem(live, now=slot.starts_at - dt.timedelta(minutes=15)) is None
        assert link_problem(live, now=slot.ends_at - dt.timedelta(seconds=1)) is None
        assert link_problem(live, now=slot.ends_at) == LinkProblem.EXPIRED
        assert link_problem(None) == LinkProblem.NOT_FOUND

    def test_closed_after_end_or_cancellation(self, live, consultant):
        services.consultation_end(consultation_id=live.pk, actor=consultant)
        live.refresh_from_db()
        assert link_problem(live) == LinkProblem.CLOSED

    def test_foreign_link_gets_a_page_that_says_what_to_do(self, client, live):
        response = client.get(reverse("consultations:client_entry", args=["nope" * 10]))
        assert response.status_code == 404
        assert 'id="link-problem"' in response.content.decode()

    def test_expired_link(self, client, service, consultant):
        old = make_live_consultation(service, consultant, starts_in=dt.timedelta(hours=-3))
        response = client.get(reverse("consultations:client_room", args=[old.client_token]))
        assert response.status_code == 410 and "1411" in response.content.decode()

    def test_early_link_allows_the_device_check_but_not_the_room(self, client, service, consultant):
        later = make_live_consultation(service, consultant, starts_in=dt.timedelta(hours=2))
        token = later.client_token
        assert client.get(reverse("consultations:device_check", args=[token])).status_code == 200
        assert client.get(reverse("consultations:client_room", args=[token])).status_code == 410

    def test_notice_before_the_room(self, client, live):
        token = live.client_token
        room = reverse("consultations:client_room", args=[token])
        assert client.get(room).url == reverse("consultations:client_entry", args=[token])
        response = client.post(reverse("consultations:client_entry", args=[token]))
        assert response.url == reverse("consultations:device_check", args=[token])
        assert client.get(room).status_code == 200

    def test_consent_declined_is_stored_and_still_served(self, client, service, live):
        Service.objects.filter(pk=service.pk).update(recording_policy="consent")
        token = live.client_token
        entry = reverse("consultations:client_entry", args=[token])
        assert client.post(entry).status_code == 400  # no answer chosen
        client.post(entry, {"consent": "no"})
        live.refresh_from_db()
        assert live.recording_consent is False
        assert client.get(reverse("consultations:client_room", args=[token])).status_code == 200


@pytest.mark.django_db
class TestConsultantRoom:
    def test_only_the_booked_consultant(self, client, service, live, consultant):
        other = make_user(Role.CONSULTANT, service=service)
        url = reverse("consultations:consultant_room", args=[live.pk])
        client.force_login(other)
        assert client.get(url).status_code == 403
        client.force_login(consultant)
        response = client.get(url)
        assert response.status_code == 200 and "admit-button" in response.content.decode()

    def test_day_link_opens_the_room(self, client, live, consultant):
        client.force_login(consultant)
        url = reverse("consultations:consultant_room_for_booking", args=[live.booking_id])
        assert client.get(url).url == reverse("consultations:consultant_room", args=[live.pk])


@pytest.mark.django_db
def test_chat_is_numbered_and_a_resent_message_is_stored_once(live):
    a = services.chat_message_create(
        consultation_id=live.pk, sender="client", text="Здравствуйте", client_msg_id="m1"
    )
    again = services.chat_message_create(
        consultation_id=live.pk, sender="client", text="Здравствуйте", client_msg_id="m1"
    )
    b = services.chat_message_create(consultation_id=live.pk, sender="consultant", text="Добрый")
    assert (a.seq, again.pk, b.seq) == (1, a.pk, 2)
    assert ChatMessage.objects.count() == 2


@pytest.mark.django_db
def test_admit_starts_the_clock_once(live, consultant):
    c = services.consultation_admit(consultation_id=live.pk, actor=consultant)
    started = c.started_at
    c = services.consultation_admit(consultation_id=live.pk, actor=consultant)
    assert c.status == Consultation.Status.IN_PROGRESS and c.started_at == started
    assert started is not None and started <= timezone.now()


@pytest.mark.django_db
def test_booking_answer_carries_the_join_link_and_room(settings, live):
    from opora.api.schemas import BookingOut

    settings.OPORA_PUBLIC_URL = "https://opora.example/"
    out = BookingOut.from_orm(live.booking)
    assert out.client_join_url == f"https://opora.example/c/{live.client_token}/"
    assert out.room_url == f"https://opora.example/consultant/room/{live.pk}/"
