"""The read of a request's personal data is audited by the selector, under one name, whichever
page reads it: the operator's request page, the API, the admin."""

import json

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from opora.accounts.models import Role
from opora.core.models import AuditEvent
from opora.demo.factories import make_district_service, make_user

from .test_operator import register_request


def _viewed(request) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            event_type="request.viewed",
            subject_type="intake.servicerequest",
            subject_id=str(request.pk),
        )
    )


def test_the_operator_request_page_records_one_read(
    operator_client, operator, registry_parent, parent_iin
):
    request = register_request(operator_client, parent_iin)
    assert _viewed(request) == []

    page = operator_client.get(reverse("operator_request", args=[request.pk]))
    assert page.status_code == 200 and parent_iin in page.content.decode()

    [event] = _viewed(request)
    assert event.actor_id == operator.pk
    assert event.extra == {"via": "web"}
    row = json.dumps(event.extra, ensure_ascii=False) + event.subject_id
    assert parent_iin not in row and registry_parent.last_name not in row
    # The form actions that show the page again are not a second read of it.
    assert not AuditEvent.objects.filter(event_type="intake.request_viewed").exists()


def test_another_services_operator_reads_nothing_and_nothing_is_recorded(
    operator_client, registry_parent, parent_iin
):
    request = register_request(operator_client, parent_iin)
    stranger = make_user(Role.OPERATOR, service=make_district_service())
    other = Client()
    other.force_login(stranger)
    response = other.get(reverse("operator_request", args=[request.pk]))
    assert response.status_code in (403, 404)
    assert parent_iin not in response.content.decode()
    assert _viewed(request) == []


def test_the_admin_records_the_same_read_under_the_same_name(
    client, operator_client, registry_parent, parent_iin
):
    request = register_request(operator_client, parent_iin)
    root = get_user_model().objects.create_superuser("root", "root@example.org", "pw-Strong-1")
    client.force_login(root)
    page = client.get(f"/admin/intake/servicerequest/{request.pk}/change/")
    assert page.status_code == 200
    [event] = _viewed(request)
    assert event.actor_id == root.pk and event.extra == {"via": "admin"}
