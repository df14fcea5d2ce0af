"""The portal's part of the requests' retention (issue 15): the messenger contact a client gave
for the answer goes when the request's term runs out or the request is anonymised (intake's
purger cannot reach it: intake does not import portal); the submission's channel, language and
date stay."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from opora.core.models import AuditEvent, RetentionRule
from opora.core.retention import registered_kinds, retention_run
from opora.intake.models import ServiceRequest
from opora.portal.models import PortalSubmission
from opora.portal.retention import purge_reply_contacts

pytestmark = pytest.mark.django_db

CONTACT = "@retention_parent_77"
OLD = dt.timedelta(days=40)
TERM = 30


def _submission(service, *, age=dt.timedelta(0), contact=CONTACT, **request):
    req = ServiceRequest.objects.create(service=service, full_name="Портальная Дана", **request)
    if age:
        ServiceRequest.objects.filter(pk=req.pk).update(created_at=timezone.now() - age)
    return PortalSubmission.objects.create(
        request=req, reply_channel="telegram", reply_contact=contact, language="ru"
    )


def test_past_the_term_or_anonymised_the_reply_contact_goes(district):
    old = _submission(district, age=OLD)
    anonymised = _submission(district, anonymised_at=timezone.now())
    fresh = _submission(district)
    _submission(district, age=OLD, contact="")  # nothing to blank: not counted
    with connection.cursor() as cursor:  # what is stored is sealed
        cursor.execute(
            "SELECT reply_contact FROM portal_portalsubmission WHERE reply_contact <> ''"
        )
        assert [v.startswith("enc1:") for (v,) in cursor.fetchall()] == [True] * 3
    cutoff = timezone.now() - dt.timedelta(days=TERM)

    assert purge_reply_contacts(district, cutoff, 100, True) == 2  # a dry run changes nothing
    assert PortalSubmission.objects.get(pk=old.pk).reply_contact == CONTACT

    assert purge_reply_contacts(district, cutoff, 1, False) == 1  # batched
    assert purge_reply_contacts(district, cutoff, 100, False) == 1
    assert purge_reply_contacts(district, cutoff, 100, False) == 0  # idempotent

    for sub in (old, anonymised):
        sub.refresh_from_db()
        assert sub.reply_contact == ""
        assert sub.reply_channel == "telegram" and sub.language == "ru" and sub.created_at
    assert PortalSubmission.objects.get(pk=fresh.pk).reply_contact == CONTACT


def test_the_retention_job_runs_it_beside_intakes_purger(district, service, settings):
    settings.OPORA_RETENTION_DAYS = {}
    assert "requests" in registered_kinds()
    old = _submission(district, age=OLD)
    other_service = _submission(service, age=OLD)  # another service's term is its own
    RetentionRule.objects.create(service=district, kind="requests", days=TERM)

    results = {(r.service, r.kind): r.handled for r in retention_run()}

    # One request anonymised (intake) and one submission's contact blanked (portal).
    assert results[(district.code, "requests")] == 2
    assert (service.code, "requests") not in results  # no term for that service
    old.refresh_from_db()
    assert old.reply_contact == ""
    assert ServiceRequest.objects.get(pk=old.request_id).anonymised_at is not None
    assert PortalSubmission.objects.get(pk=other_service.pk).reply_contact == CONTACT
    event = AuditEvent.objects.get(event_type="retention.applied")
    assert event.extra == {"kind": "requests", "days": TERM, "count": 2}
