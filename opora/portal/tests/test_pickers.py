"""The parent's time picker and the self-booking draft: one tile per distinct time, grouped by
the service's local day, nearest first; "more days"; any free consultant assigned at booking
(least-loaded first); no request before a time is chosen; an expired draft; a double submit."""

import datetime as dt
import random

import pytest
from django.test import Client
from django.urls import reverse

from opora.demo.factories import make_consultant
from opora.intake.models import ServiceRequest
from opora.portal.drafts import DRAFT_TTL, draft_load
from opora.portal.models import PortalSubmission
from opora.portal.services import PortalRequest, booking_draft_complete
from opora.scheduling.calendar import to_local
from opora.scheduling.models import Booking
from opora.scheduling.selectors import free_times_by_day, slots_free_at
from opora.scheduling.tests.factories import future_working_day, make_request, make_slot

pytestmark = pytest.mark.django_db

BOOKER = {
    "full_name": "Тестова Анна Петровна",
    "email": "anna@example.org",
    "phone": "+7 927 000 11 22",
    "consent": "on",
}


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat()


@pytest.fixture
def three(district):
    return [
        make_consultant(district, last_name=name, first_name="Тест")
        for name in ("Альфа", "Бета", "Гамма")
    ]


@pytest.fixture
def days(district):
    return [future_working_day(district, nth=n) for n in range(5)]


@pytest.fixture
def busy_week(district, three, days):
    """Every consultant free 14:00, 15:00 and 16:00 on five working days."""
    return [
        make_slot(district, c, day, dt.time(h)) for day in days for c in three for h in (14, 15, 16)
    ]


# --- the grouped-time selector --------------------------------------------------------------


def test_one_time_per_start_whoever_is_free_nearest_first(district, busy_week, days):
    picker = free_times_by_day(service=district, days=3)
    assert [d.date for d in picker.days] == days[:3]
    first = picker.days[0]
    assert [to_local(district, t.starts_at).time() for t in first.times] == [
        dt.time(14),
        dt.time(15),
        dt.time(16),
    ]
    assert all(t.free == 3 for t in first.times)  # three consultants, one tile
    assert picker.more_from == days[3]
    more = free_times_by_day(service=district, start=picker.more_from, days=3)
    assert [d.date for d in more.days] == days[3:5] and more.more_from is None


def test_days_are_the_service_local_days(district, three):
    # 01:00 in Moscow is 22:00 UTC of the day before: the tile belongs to the Moscow day.
    district.consultation_opens = dt.time(0)
    district.save()
    day = future_working_day(district)
    slot = make_slot(district, three[0], day, dt.time(1))
    assert slot.starts_at.astimezone(dt.UTC).date() == day - dt.timedelta(days=1)
    picker = free_times_by_day(service=district)
    assert picker.days[0].date == day
    assert to_local(district, picker.days[0].times[0].starts_at).time() == dt.time(1)


def test_booked_times_vanish_only_when_nobody_is_free(district, three, days):
    slots = [make_slot(district, c, days[0], dt.time(14)) for c in three[:2]]
    for slot in slots[:1]:
        Booking.objects.create(slot=slot, request=make_request(district))
    picker = free_times_by_day(service=district)
    assert picker.days[0].times[0].free == 1
    Booking.objects.create(slot=slots[1], request=make_request(district))
    assert free_times_by_day(service=district).days == []


def test_the_least_loaded_consultant_gets_the_client(district, three, days):
    at = [make_slot(district, c, days[0], dt.time(16)) for c in three]
    # Alpha and Beta already have a consultation that day; Gamma has none.
    for c in three[:2]:
        earlier = make_slot(district, c, days[0], dt.time(14))
        Booking.objects.create(slot=earlier, request=make_request(district))
    order = slots_free_at(service=district, starts_at=at[0].starts_at, rng=random.Random(1))
    assert order[0].consultant == three[2]
    assert {s.consultant for s in order} == set(three)
    # Ties go in random order: over a few draws, both tied consultants come first sometimes.
    firsts = {
        slots_free_at(service=district, starts_at=at[0].starts_at, rng=random.Random(seed))[
            1
        ].consultant
        for seed in range(20)
    }
    assert firsts == set(three[:2])


def test_a_past_time_offers_nothing(district, three, days):
    slot = make_slot(district, three[0], days[0], dt.time(14))
    later = slot.starts_at + dt.timedelta(minutes=1)
    assert slots_free_at(service=district, starts_at=slot.starts_at, now=later) == []


# --- the draft: no request before the time --------------------------------------------------


def _step1(client) -> None:
    response = client.post(reverse("portal:book", args=["district"]), BOOKER)
    assert response.status_code == 303, response.content.decode()[:1500]


def test_step_one_registers_nothing(client, district, busy_week):
    _step1(client)
    assert not ServiceRequest.objects.exists()
    assert not PortalSubmission.objects.exists()
    # The visitor's session (which holds the draft) ends with the draft.
    assert client.session.get_expiry_age() <= DRAFT_TTL.total_seconds()
    page = client.get(reverse("portal:book_time", args=["district"]))
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    html = page.content.decode()
    assert html.count('name="time"') == 9  # 3 days x 3 times, not 27 consultant cards
    assert "Альфа" not in html  # no names where the service does not let the client choose
    assert 'id="more-days"' in html and "UTC+3" in html


def test_more_days_works_without_script(client, district, busy_week, days):
    _step1(client)
    url = reverse("portal:book_time", args=["district"])
    html = client.get(url).content.decode()
    more = html.split('id="more-days"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert more == f"?from={days[3]:%Y-%m-%d}"
    later = client.get(url + more).content.decode()
    assert later.count('name="time"') == 6 and 'id="nearest-days"' in later


def test_double_submit_makes_one_request(client, district, busy_week):
    _step1(client)
    url = reverse("portal:book_time", args=["district"])
    time = _iso(busy_week[0].starts_at)
    first = client.post(url, {"time": time})
    second = client.post(url, {"time": time})
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert ServiceRequest.objects.count() == 1
    assert Booking.objects.filter(status=Booking.Status.ACTIVE).count() == 1
    # The personal data left the session with the booking.
    draft = draft_load(client.session, service_id=district.pk)
    assert draft.done_token and draft.data.full_name == ""


def test_the_same_draft_submitted_twice_at_the_service_level(district, busy_week):
    data = PortalRequest(full_name="Тестова Анна Петровна", email="anna@example.org")
    from opora.portal.selectors import consent_current

    kwargs = {
        "service": district,
        "key": "k" * 32,
        "data": data,
        "consent": consent_current(district),
        "check_id": None,
        "starts_at": busy_week[0].starts_at,
    }
    first = booking_draft_complete(**kwargs)
    second = booking_draft_complete(**{**kwargs, "starts_at": busy_week[1].starts_at})
    assert first.pk == second.pk and ServiceRequest.objects.count() == 1
    assert Booking.objects.get(request=first).slot.starts_at == busy_week[0].starts_at


def test_an_expired_draft_is_gone_and_leaves_nothing(client, district, busy_week):
    _step1(client)
    session = client.session
    drafts = session["portal-booking-drafts"]
    created = dt.datetime.fromisoformat(drafts[str(district.pk)]["created_at"])
    drafts[str(district.pk)]["created_at"] = (created - DRAFT_TTL - dt.timedelta(1)).isoformat()
    session["portal-booking-drafts"] = drafts
    session.save()
    url = reverse("portal:book_time", args=["district"])
    response = client.post(url, {"time": _iso(busy_week[0].starts_at)})
    assert response.status_code == 303
    assert response["Location"] == reverse("portal:book", args=["district"])
    assert not ServiceRequest.objects.exists() and not Booking.objects.exists()
    assert (
        "portal-booking-drafts" not in client.session
        or str(district.pk) not in (client.session["portal-booking-drafts"])
    )


def test_a_taken_time_goes_to_the_next_free_consultant(client, district, three, days):
    slots = [make_slot(district, c, days[0], dt.time(14)) for c in three[:2]]
    Booking.objects.create(slot=slots[0], request=make_request(district))
    slots[0].refresh_from_db()
    _step1(client)
    response = client.post(
        reverse("portal:book_time", args=["district"]), {"time": _iso(slots[0].starts_at)}
    )
    assert response.status_code == 303
    req = ServiceRequest.objects.get(channel="portal")
    assert Booking.objects.get(request=req).slot == slots[1]


def test_no_time_chosen_is_a_clear_error_and_nothing_is_made(client, district, busy_week):
    _step1(client)
    for bad in ("", "tomorrow", "2026-01-01T10:00:00"):
        response = client.post(reverse("portal:book_time", args=["district"]), {"time": bad})
        assert response.status_code in (400, 409)
        assert 'id="choose-error"' in response.content.decode()
    assert not ServiceRequest.objects.exists()


def test_a_named_consultant_only_where_the_service_allows_it(client, district, three, days):
    slots = {c: make_slot(district, c, days[0], dt.time(14)) for c in three}
    _step1(client)
    url = reverse("portal:book_time", args=["district"])
    assert 'id="id_consultant"' not in client.get(url).content.decode()
    district.allows_choosing_consultant = True
    district.save()
    html = client.get(url).content.decode()
    assert 'id="id_consultant"' in html and "Бета" in html
    picked = client.get(url, {"consultant": three[1].pk}).content.decode()
    assert picked.count('name="time"') == 1
    response = client.post(
        url, {"time": _iso(slots[three[1]].starts_at), "consultant": three[1].pk}
    )
    assert response.status_code == 303
    assert Booking.objects.get().slot.consultant == three[1]


def test_another_visitor_has_no_draft(district, busy_week):
    stranger = Client()
    response = stranger.get(reverse("portal:book_time", args=["district"]))
    assert response.status_code == 303
    assert response["Location"] == reverse("portal:book", args=["district"])


def test_change_my_details_shows_step_one_again_filled_and_uncached(client, district, busy_week):
    _step1(client)
    response = client.get(reverse("portal:book", args=["district"]))
    html = response.content.decode()
    assert 'value="Тестова Анна Петровна"' in html and response["Cache-Control"] == "no-store"
    # A stranger's step 1 is empty and may be cached as any public page.
    fresh = Client().get(reverse("portal:book", args=["district"]))
    assert "Тестова" not in fresh.content.decode() and "no-store" not in fresh.get(
        "Cache-Control", ""
    )
