"""Quality's part of the requests' retention (issue 15): the free text of an evaluation
(impressions, wishes) goes when the request's term runs out or the request is anonymised; the
scores and dates the quality reports count stay."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from opora.core.models import AuditEvent, RetentionRule
from opora.core.retention import registered_kinds, retention_run
from opora.demo.factories import make_district_service
from opora.intake.models import ServiceRequest
from opora.quality.models import CRITERION_FIELDS, Evaluation
from opora.quality.retention import purge_evaluation_texts

pytestmark = pytest.mark.django_db

IMPRESSIONS = "Консультант помог нашей семье Ивановых"
WISHES = "Больше вечерних часов"
OLD = dt.timedelta(days=40)
TERM = 30


@pytest.fixture
def district(db):
    return make_district_service()


def _evaluation(service, *, age=dt.timedelta(0), impressions=IMPRESSIONS, wishes=WISHES, **request):
    req = ServiceRequest.objects.create(service=service, full_name="Оценкина Дана", **request)
    if age:
        ServiceRequest.objects.filter(pk=req.pk).update(created_at=timezone.now() - age)
    now = timezone.now()
    return Evaluation.objects.create(
        request=req,
        service=service,
        served_at=now - dt.timedelta(days=1),
        closes_at=now + dt.timedelta(days=2),
        submitted_at=now,
        **dict.fromkeys(CRITERION_FIELDS, 4),
        impressions=impressions,
        wishes=wishes,
    )


def test_past_the_term_or_anonymised_the_texts_go_and_the_scores_stay(district):
    old = _evaluation(district, age=OLD)
    anonymised = _evaluation(district, anonymised_at=timezone.now(), wishes="")
    fresh = _evaluation(district)
    _evaluation(district, age=OLD, impressions="", wishes="")  # nothing to blank: not counted
    with connection.cursor() as cursor:  # what is stored is sealed
        cursor.execute("SELECT impressions FROM quality_evaluation WHERE impressions <> ''")
        assert [v.startswith("enc1:") for (v,) in cursor.fetchall()] == [True] * 3
    cutoff = timezone.now() - dt.timedelta(days=TERM)

    assert purge_evaluation_texts(district, cutoff, 100, True) == 2  # a dry run changes nothing
    assert Evaluation.objects.get(pk=old.pk).impressions == IMPRESSIONS

    assert purge_evaluation_texts(district, cutoff, 1, False) == 1  # batched
    assert purge_evaluation_texts(district, cutoff, 100, False) == 1
    assert purge_evaluation_texts(district, cutoff, 100, False) == 0  # idempotent

    for evaluation in (old, anonymised):
        before = evaluation.submitted_at
        evaluation.refresh_from_db()
        assert evaluation.impressions == "" and evaluation.wishes == ""
        assert all(getattr(evaluation, f) == 4 for f in CRITERION_FIELDS)
        assert evaluation.submitted_at == before and evaluation.served_at
    fresh.refresh_from_db()
    assert fresh.impressions == IMPRESSIONS and fresh.wishes == WISHES


def test_the_retention_job_runs_it_beside_intakes_purger(district, service, settings):
    settings.OPORA_RETENTION_DAYS = {}
    assert "requests" in registered_kinds()
    old = _evaluation(district, age=OLD)
    other_service = _evaluation(service, age=OLD)  # another service's term is its own
    RetentionRule.objects.create(service=district, kind="requests", days=TERM)

    results = {(r.service, r.kind): r.handled for r in retention_run()}

    # One request anonymised (intake) and one evaluation's texts blanked (quality).
    assert results[(district.code, "requests")] == 2
    assert (service.code, "requests") not in results
    old.refresh_from_db()
    assert old.impressions == "" and old.wishes == "" and old.q1 == 4
    assert ServiceRequest.objects.get(pk=old.request_id).anonymised_at is not None
    assert Evaluation.objects.get(pk=other_service.pk).impressions == IMPRESSIONS
    event = AuditEvent.objects.get(event_type="retention.applied")
    assert event.extra == {"kind": "requests", "days": TERM, "count": 2}
