"""A raised hand is bound to the participant's own Janus feed, which the server derives from
their link or session: a page naming another feed is refused (issue 14)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse

from opora.events import janus, services
from opora.events.models import RoomMessage
from opora.events.room import who_of
from opora.events.tests.factories import make_event, phone

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_janus(monkeypatch):
    """The feed binding is the server's alone: these rooms were never made in a Janus, so the
    test run's Janus (scripts/test.sh starts one) is not asked to mute in them."""
    for name in ("OPORA_JANUS_URL", "OPORA_JANUS_URLS", "OPORA_JANUS_PUBLIC_URLS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def two(service, consultant):
    event = make_event(service, consultant, starts_in=dt.timedelta(minutes=1))
    first, second = (
        services.registration_create(
            actor=None, event=event, full_name=f"Участник {i}", phone=phone(i)
        ).registration
        for i in (1, 2)
    )
    return event, first, second


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_a_forged_feed_id_is_refused(client, two):
    event, first, second = two
    victim = janus.participant_feed(event, who_of(registration=second))
    url = reverse("events:messages", args=[first.token])
    response = post(client, url, {"kind": "hand", "feed": victim, "mid": "0"})
    assert response.status_code == 403
    assert not RoomMessage.objects.filter(kind="hand").exists()


def test_the_hand_carries_the_server_s_feed_of_the_poster(client, two):
    event, first, second = two
    url = reverse("events:messages", args=[first.token])
    assert post(client, url, {"kind": "hand", "mid": "0"}).status_code == 200
    own = janus.participant_feed(event, who_of(registration=first))
    assert post(client, url, {"kind": "hand", "feed": own, "mid": "0"}).status_code == 200
    assert list(RoomMessage.objects.values_list("feed", flat=True)) == [own, own]
    assert own != janus.participant_feed(event, who_of(registration=second))
    # A stream name that is not Janus's (a number) is refused too.
    assert post(client, url, {"kind": "hand", "mid": "0; x"}).status_code == 400


def test_the_room_page_gives_the_feed_it_must_publish_as(client, two, monkeypatch):
    event, first, _second = two
    monkeypatch.setenv("OPORA_JANUS_URL", "http://127.0.0.1:9/janus")
    config = janus.client_config(
        event, publisher=False, display="x", who=who_of(registration=first)
    )
    assert config["feed"] == janus.participant_feed(event, f"r{first.pk}")
    assert 0 < config["feed"] < 2**53
