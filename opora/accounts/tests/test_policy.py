"""The access policy: its table, its answers and the document that shows it (issue 10)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from opora.accounts.models import Role
from opora.accounts.policy import (
    ALL_ROLES,
    RULES,
    STAFF_ROLES,
    Action,
    can,
    refusal,
    require,
    role_of,
    table_markdown,
)
from opora.core.actors import ClientActor, SystemActor
from opora.core.errors import NotFound, PermissionDenied
from opora.demo.factories import (
    make_admin,
    make_consultant,
    make_district_service,
    make_service_1411,
    make_user,
)

DOC = Path(__file__).resolve().parents[3] / "docs" / "SECURITY.md"


def test_every_action_has_a_rule_and_the_staff_roles_are_the_models():
    assert set(RULES) == set(Action)
    assert set(STAFF_ROLES) == set(Role.values)
    for rule in RULES.values():
        assert rule.roles <= set(ALL_ROLES)


def test_the_document_shows_the_modules_table():
    text = DOC.read_text(encoding="utf-8")
    start, end = "<!-- policy-table:start -->\n", "<!-- policy-table:end -->"
    assert start in text and end in text
    shown = text.split(start, 1)[1].split(end, 1)[0]
    assert shown == table_markdown(), (
        "docs/SECURITY.md differs from opora.accounts.policy.RULES: run "
        "`python -m opora.accounts.policy` and paste its output between the policy-table markers"
    )


class Record:
    """A record judged by its attributes only (duck typing), as the policy does."""

    def __init__(self, pk: int, service_id: int, consultant_id: int | None = None) -> None:
        self.pk, self.service_id, self.consultant_id = pk, service_id, consultant_id


@pytest.mark.django_db
def test_answers_by_role_service_and_owner():
    service = make_service_1411()
    other = make_district_service()
    operator = make_user(Role.OPERATOR, service=service)
    consultant = make_consultant(service)
    colleague = make_consultant(service)
    admin = make_admin()
    mine = Record(1, service.pk, consultant.pk)
    theirs = Record(2, service.pk, colleague.pk)
    elsewhere = Record(3, other.pk, consultant.pk)

    assert can(operator, Action.REQUEST_QUEUE)
    assert can(operator, Action.REQUEST_QUEUE, mine)
    assert not can(operator, Action.REQUEST_QUEUE, elsewhere)
    assert not can(operator, Action.PROTOCOL_WRITE)
    assert can(consultant, Action.PROTOCOL_WRITE, mine)
    assert not can(consultant, Action.PROTOCOL_WRITE, theirs)
    assert can(admin, Action.REQUEST_QUEUE, elsewhere)
    assert can(operator, Action.REQUEST_QUEUE, service=service)
    assert not can(operator, Action.REQUEST_QUEUE, service=other)

    with pytest.raises(PermissionDenied):
        require(operator, Action.SCHEDULE_APPROVE)
    with pytest.raises(NotFound):  # hidden: another service's request does not show it exists
        require(operator, Action.REQUEST_QUEUE, elsewhere)
    assert isinstance(refusal(consultant, Action.PROTOCOL_WRITE, theirs), PermissionDenied)


@pytest.mark.django_db
def test_a_superuser_is_an_administrator_and_keeps_their_own_role():
    service = make_service_1411()
    boss = make_user(Role.CONSULTANT, service=service, is_superuser=True)
    assert role_of(boss) == "admin"
    assert can(boss, Action.ADMIN_SITE)
    assert can(boss, Action.CONSULTATION_DAY)  # only consultants: as the consultant they are
    assert not can(make_user(Role.HEAD, service=service), Action.CONSULTATION_DAY)


@pytest.mark.django_db
def test_clients_and_the_system():
    service = make_district_service()  # lets clients book themselves
    no_self_booking = make_service_1411()

    class ServiceRequest:  # judged as a request by its class name, like the model
        def __init__(self, pk: int, service) -> None:
            self.pk, self.service, self.service_id = pk, service, service.pk

    client = ClientActor(request_id=7)
    assert role_of(client) == "client"
    assert can(client, Action.REQUEST_BOOK, ServiceRequest(7, service))
    assert not can(client, Action.REQUEST_BOOK, ServiceRequest(7, no_self_booking))
    assert not can(client, Action.REQUEST_BOOK, ServiceRequest(8, service))
    assert not can(client, Action.REQUEST_BOOK)  # a client acts on their own request only
    assert not can(client, Action.REQUEST_VIEW, ServiceRequest(7, service))
    system = SystemActor(name="scheduler")
    assert can(system, Action.HANDOFF_SEND, service=service)
    assert not can(system, Action.PROTOCOL_WRITE)
    assert role_of(None) is None


@pytest.mark.django_db
def test_a_refusal_is_logged_with_ids_only(caplog):
    service = make_service_1411()
    other = make_district_service()
    operator = make_user(Role.OPERATOR, service=service, first_name="Секретное", last_name="Имя")
    with caplog.at_level(logging.WARNING, logger="opora.access"):
        refusal(operator, Action.REQUEST_QUEUE, Record(5, other.pk))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "opora.access"]
    assert "action=request.queue" in line and f"actor={operator.pk}" in line
    assert "record=Record:5" in line and "answer=404" in line
    assert "Секретное" not in line and operator.username not in line


@pytest.mark.django_db
def test_the_admin_asks_the_policy_not_only_djangos_permissions(client):
    """A head given the staff flag and every model permission still gets no admin page: the
    admin pages ask `admin.site` of the access policy first."""
    from django.contrib.auth.models import Permission

    head = make_user(Role.HEAD, is_staff=True)
    head.user_permissions.set(Permission.objects.all())
    client.force_login(head)
    assert client.get("/admin/core/service/").status_code == 403
    admin = make_admin(is_staff=True)
    admin.user_permissions.set(Permission.objects.all())
    client.force_login(admin)
    assert client.get("/admin/core/service/").status_code == 200
