"""Staff named by audit events are deactivated, never deleted: the events keep their actor."""

import pytest
from django.db.models import ProtectedError

from opora.accounts.models import Role, User
from opora.core.audit import AuditEventType, audit_record
from opora.core.models import AuditEvent
from opora.demo.factories import make_admin, make_service_1411, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_with_events():
    service = make_service_1411(code="staff-kept")
    operator = make_user(Role.OPERATOR, username="op-kept", service=service)
    audit_record(actor=operator, event_type=AuditEventType.REQUEST_VIEWED, subject=service)
    return operator


def test_deleting_a_user_with_events_is_refused(operator_with_events):
    with pytest.raises(ProtectedError):
        operator_with_events.delete()
    event = AuditEvent.objects.get(actor=operator_with_events)
    assert event.actor_label == "op-kept (operator)"


def test_the_admin_says_to_deactivate_instead(client, operator_with_events):
    admin = make_admin(is_staff=True, is_superuser=True)
    client.force_login(admin)
    url = f"/admin/accounts/user/{operator_with_events.pk}/delete/"
    page = client.get(url).content.decode()
    assert "вместо этого отключите учётную запись" in page
    response = client.post(url, {"post": "yes"})
    assert response.status_code in (200, 403)
    assert User.objects.filter(pk=operator_with_events.pk).exists()

    changelist = "/admin/accounts/user/"
    page = client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [operator_with_events.pk]},
    ).content.decode()
    assert "вместо этого отключите учётн" in page
    assert User.objects.filter(pk=operator_with_events.pk).exists()


def test_a_user_without_events_can_still_be_deleted():
    user = make_user(Role.OPERATOR, username="never-acted")
    user.delete()
    assert not User.objects.filter(username="never-acted").exists()
