"""The requests' retention purger (issue 15) also blanks the encrypted free texts beside the
request: its referral text, refusal note and child-help referral; the rows and dates stay."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from opora.intake.models import ChildHelpReferral, ServiceRequest
from opora.intake.retention import purge_requests

pytestmark = pytest.mark.django_db

NEED = "Ребёнку нужна помощь дефектолога, мама боится школы"


def test_past_the_term_the_request_and_its_child_help_referral_keep_no_text(service):
    old = ServiceRequest.objects.create(
        service=service,
        full_name="Ретенцова Дана",
        referral_text="Центр «Радуга», звоните Ретенцовой",
        refusal_note="отказ по телефону",
    )
    ChildHelpReferral.objects.create(request=old, note=NEED, message=f"Здравствуйте! {NEED}")
    kept = ServiceRequest.objects.create(service=service, full_name="Свежая Запись")
    ChildHelpReferral.objects.create(request=kept, note=NEED, message=NEED)
    with connection.cursor() as cursor:  # what is stored is sealed
        cursor.execute("SELECT note, message FROM intake_childhelpreferral")
        assert all(v.startswith("enc1:") for row in cursor.fetchall() for v in row)
    ServiceRequest.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=40)
    )

    assert purge_requests(service, timezone.now() - dt.timedelta(days=30), 100, False) == 1

    old.refresh_from_db()
    assert old.referral_text == old.refusal_note == old.full_name == ""
    referral = ChildHelpReferral.objects.get(request=old)
    assert referral.note == referral.message == "" and referral.created_at
    assert ChildHelpReferral.objects.get(request=kept).note == NEED
