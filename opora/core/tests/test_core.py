import datetime as dt
import logging
import zoneinfo

import pytest
from django.db import IntegrityError, transaction

from opora.core.logging import ScrubPersonalData, scrub
from opora.core.models import Region, Service


def test_kazakhstan_single_time_zone_is_utc_plus_5():
    # Kazakhstan moved to UTC+5 on 1 March 2024; the pinned tzdata must know it.
    almaty = zoneinfo.ZoneInfo("Asia/Almaty")
    assert dt.datetime(2024, 2, 1, 12, tzinfo=almaty).utcoffset() == dt.timedelta(hours=6)
    assert dt.datetime(2025, 1, 15, 12, tzinfo=almaty).utcoffset() == dt.timedelta(hours=5)


@pytest.mark.django_db
def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_regions_loaded_for_both_countries():
    assert Region.objects.filter(country="KZ").count() == 20
    assert Region.objects.filter(country="RU").count() == 89
    assert Region.objects.get(code="KZ-75").name_ru.endswith("Алматы")


@pytest.mark.django_db
def test_service_hours_are_checked_by_the_database(service):
    service.consultation_opens = dt.time(18)
    service.consultation_closes = dt.time(14)
    with pytest.raises(IntegrityError), transaction.atomic():
        Service.objects.filter(pk=service.pk).update(
            consultation_opens=dt.time(18), consultation_closes=dt.time(14)
        )


@pytest.mark.parametrize(
    "line",
    [
        # Celery's own log line: a phone pattern once matched "123-4567-8" inside the task id.
        "Task opora.notifications.tasks.deliver[922665af-a123-4567-8fda-eaeb8d13bd8d] "
        "succeeded in 0.0123s: None",
        "Task opora.scheduling.tasks.remind[12345678-1234-1234-1234-123456789012] received",
        "Task opora.x[{922665AF-A123-4567-8FDA-EAEB8D13BD8D}] retry",
        "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "id 922665afa12345678fdaeaeb8d13bd8d",
        # django-axes logs a cut-off time; handoffs and reports log their dates.
        "older than 2026-12-05 17:03:28.913262+00:00",
        "handoff of 2026-12-07 sent at 2026-12-07T17:45",
    ],
)
def test_ids_hashes_and_dates_are_not_mistaken_for_personal_data(line):
    assert scrub(line) == line


@pytest.mark.parametrize(
    ("line", "clean"),
    [
        ("call +7 927 000 11 22 now", "call [phone] now"),
        ("sms to 87770001122 queued", "sms to [phone] queued"),
        ("office 8 (7172) 55-00-00", "office [phone]"),
        ("the number is 87770001122.", "the number is [phone]."),
        ("тел.+77010001122", "тел.[phone]"),
        ("phone=+79270001122, iin=900515300018", "phone=[phone], iin=[iin]"),
        # A UUID next to personal data does not shield it.
        (
            "Task t[922665af-a123-4567-8fda-eaeb8d13bd8d] for 87770001122 / 900515300018",
            "Task t[922665af-a123-4567-8fda-eaeb8d13bd8d] for [phone] / [iin]",
        ),
        # An IIN or a phone with a few hex letters glued on is still scrubbed.
        ("ref 900515300018abcd", "ref [iin]abcd"),
        ("tel 7172-55-00-00", "tel [phone]"),
    ],
)
def test_real_phones_and_iins_are_still_scrubbed(line, clean):
    assert scrub(line) == clean


def test_logs_never_carry_iins_or_phones(caplog):
    assert scrub("check 900515300018 for +7 701 123 45 67") == "check [iin] for [phone]"
    assert scrub("call 8 (701) 123-45-67 now") == "call [phone] now"
    assert scrub("task succeeded in 0.0012345678s") == "task succeeded in 0.0012345678s"
    logger = logging.getLogger("opora.test")
    logger.addFilter(ScrubPersonalData())
    with caplog.at_level(logging.INFO):
        logger.info("looked up %s", "900515300018")
    assert "900515300018" not in caplog.text
    assert "[iin]" in caplog.text
