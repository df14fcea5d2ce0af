"""`opora demo` gives every service staff who can sign in, and says which login works where: a
request to the district service reaches a queue someone reads, and a consultant who holds it."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from opora.accounts.models import Role, User
from opora.core.models import Service
from opora.demo.management.commands.demo import demo_password

SMALL = ["--registry-rows", "100", "--consultants", "1"]
DISTRICT_LOGINS = {
    "operator-mordovia": Role.OPERATOR,
    "coordinator-mordovia": Role.COORDINATOR,
    "head-mordovia": Role.HEAD,
    "district-psychologist": Role.CONSULTANT,
    "district-social": Role.CONSULTANT,
}


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", *SMALL, *args, stdout=out)
    return out.getvalue()


def _can_sign_in(service: Service, *roles: str) -> list[User]:
    return [
        u
        for u in User.objects.filter(services=service, role__in=roles, is_active=True)
        if u.has_usable_password()
    ]


@pytest.mark.django_db
def test_every_service_has_staff_who_can_sign_in_for_each_step():
    run_demo()
    services = Service.objects.filter(is_active=True)
    assert {s.code for s in services} == {"kz-1411", "mordovia"}
    for service in services:
        assert _can_sign_in(service, Role.OPERATOR, Role.COORDINATOR), service.code
        assert _can_sign_in(service, Role.HEAD), service.code
        assert _can_sign_in(service, Role.CONSULTANT), service.code


@pytest.mark.django_db
def test_the_district_logins_are_printed_with_where_they_work():
    output = run_demo()
    for username, role in DISTRICT_LOGINS.items():
        user = User.objects.get(username=username)
        assert user.role == role and user.is_active
        assert user.check_password(demo_password(username))
        assert [s.code for s in user.services.all()] == ["mordovia"]
        line = re.search(rf"^\s+{re.escape(username)}\s+(\S+)\s+(\S+)\s+(.+)$", output, re.M)
        assert line is not None, username
        assert line.groups() == (demo_password(username), role, "mordovia")
    # The 1411 logins keep their names and passwords; who serves both services is told so.
    for username in ("operator", "coordinator", "head"):
        line = re.search(
            rf"^\s+{username}\s+{re.escape(demo_password(username))}\s.*$", output, re.M
        )
        assert line is not None and line.group(0).rstrip().endswith("kz-1411, mordovia")
    consultant = re.search(r"^\s+consultant\s+\S+\s+consultant\s+(.+)$", output, re.M)
    assert consultant is not None and consultant.group(1) == "kz-1411"
    assert output.rstrip().splitlines()[-1].lstrip().startswith("admin ")


@pytest.mark.django_db
def test_a_second_run_keeps_changed_district_passwords_and_reset_restores_them():
    run_demo()
    users = User.objects.count()
    head = User.objects.get(username="head-mordovia")
    head.set_password("changed-by-the-tester-1")
    head.save()

    run_demo()
    assert User.objects.count() == users
    head.refresh_from_db()
    assert head.check_password("changed-by-the-tester-1")

    run_demo("--reset-passwords")
    head.refresh_from_db()
    assert head.check_password(demo_password("head-mordovia"))


@pytest.mark.django_db
def test_district_consultants_of_an_older_demo_get_their_printed_password():
    run_demo()
    psychologist = User.objects.get(username="district-psychologist")
    psychologist.set_unusable_password()  # as the demo made them before they could sign in
    psychologist.save()
    run_demo()
    psychologist.refresh_from_db()
    assert psychologist.check_password(demo_password("district-psychologist"))
