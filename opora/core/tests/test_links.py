import os
import subprocess
import sys

import pytest

from opora.core.links import public_host, public_url


def _public_url_setting(env: dict[str, str]) -> str:
    """OPORA_PUBLIC_URL as the settings compute it in a fresh process with `env`."""
    base = {k: v for k, v in os.environ.items() if k not in ("PORT", "OPORA_PUBLIC_URL")}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from opora.settings import base; print(base.OPORA_PUBLIC_URL)",
        ],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"PORT": "8811"}, "http://127.0.0.1:8811"),
        (
            {"PORT": "8811", "OPORA_PUBLIC_URL": "https://opora.example.kz"},
            "https://opora.example.kz",
        ),
    ],
)
def test_public_url_follows_port_unless_set(env, expected):
    assert _public_url_setting(env) == expected


def test_links_are_built_from_the_one_setting(settings):
    settings.OPORA_PUBLIC_URL = "http://127.0.0.1:8811/"
    assert public_url("/s/r/abc/") == "http://127.0.0.1:8811/s/r/abc/"
    assert public_url("l/X") == "http://127.0.0.1:8811/l/X"
    assert public_host() == "127.0.0.1"


@pytest.mark.django_db
def test_join_link_and_calendar_use_the_setting(settings, service, consultant):
    import datetime as dt

    from opora.consultations.selectors import client_join_url
    from opora.consultations.services import consultation_for_booking
    from opora.scheduling.ics import booking_ics
    from opora.scheduling.models import Booking
    from opora.scheduling.tests.factories import future_working_day, make_request, make_slot

    settings.OPORA_PUBLIC_URL = "http://127.0.0.1:8811"
    slot = make_slot(service, consultant, future_working_day(service), dt.time(15))
    booking = Booking.objects.create(slot=slot, request=make_request(service))
    consultation = consultation_for_booking(booking=booking)
    assert client_join_url(consultation).startswith("http://127.0.0.1:8811/")
    assert f"booking-{booking.pk}@127.0.0.1".encode() in booking_ics(booking)
