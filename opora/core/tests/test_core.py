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
