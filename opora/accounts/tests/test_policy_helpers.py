"""The policy's helpers for what role tests used to answer, and the template filter `may`."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template

from opora.accounts import policy
from opora.accounts.models import Role
from opora.accounts.policy import Action
from opora.demo.factories import make_service_1411, make_user

pytestmark = pytest.mark.django_db


def _render(user, action):
    template = Template('{% load access_policy %}{% if user|may:"' + action + '" %}yes{% endif %}')
    return template.render(Context({"user": user}))


def test_the_template_asks_the_policy():
    service = make_service_1411()
    head = make_user(Role.HEAD, service=service)
    consultant = make_user(Role.CONSULTANT, service=service)
    assert _render(head, "recording.view") == "yes"
    assert _render(consultant, "recording.view") == ""
    assert _render(consultant, "consultation.day") == "yes"
    assert _render(AnonymousUser(), "referral.read") == ""
    with pytest.raises(ValueError):  # a typo is an error, not a hidden link
        _render(head, "recording.veiw")


def test_own_only_a_consultant_on_an_own_rule():
    service = make_service_1411()
    consultant = make_user(Role.CONSULTANT, service=service)
    head = make_user(Role.HEAD, service=service)
    superuser = make_user(Role.CONSULTANT, service=service, is_superuser=True)
    assert policy.own_only(consultant, Action.JOURNAL_VIEW)
    assert not policy.own_only(head, Action.JOURNAL_VIEW)
    assert not policy.own_only(superuser, Action.JOURNAL_VIEW)  # an administrator here
    assert not policy.own_only(consultant, Action.SURVEY_RESULTS)  # a service rule


def test_start_role():
    assert policy.start_role(make_user(Role.HEAD)) == "head"
    assert policy.start_role(make_user(Role.HEAD, is_superuser=True)) == "head"
    assert policy.start_role(make_user("", is_superuser=True)) == "admin"
    assert policy.start_role(make_user("")) is None
    assert policy.start_role(AnonymousUser()) is None


def test_an_active_consultant_of_the_service():
    service = make_service_1411()
    consultant = make_user(Role.CONSULTANT, service=service)
    elsewhere = make_user(Role.CONSULTANT)
    gone = make_user(Role.CONSULTANT, service=service, is_active=False)
    head = make_user(Role.HEAD, service=service)
    may = [
        policy.can(u, Action.CONSULTATION_DAY, service=service)
        for u in (consultant, elsewhere, gone, head)
    ]
    assert may == [True, False, False, False]
