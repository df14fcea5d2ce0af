"""Events ask the access policy (`event.run`, `event.moderate`, `event.announce`); the lead of an
event (and, in the room, its presenters) lead it by the events' own record rule."""

from __future__ import annotations

import pytest

from opora.accounts.models import Role
from opora.accounts.policy import Action, can
from opora.core.errors import NotFound, PermissionDenied
from opora.demo.factories import make_user
from opora.events.access import may_lead, require_event_staff
from opora.events.tests.factories import make_event
from opora.scheduling.tests.factories import other_service


@pytest.mark.django_db
def test_who_runs_and_leads_an_event(service, consultant, coordinator, head, operator):
    event = make_event(service, consultant)
    colleague = make_user(Role.CONSULTANT, service=service)
    assert require_event_staff(coordinator, event) is coordinator
    with pytest.raises(PermissionDenied):
        require_event_staff(operator, event)
    # Another service's event does not show (404), even to its role.
    stranger = make_user(Role.HEAD, service=other_service(service, code="other"))
    with pytest.raises(NotFound):
        require_event_staff(stranger, event)
    assert may_lead(consultant, event) and may_lead(head, event)
    assert not may_lead(colleague, event) and not may_lead(coordinator, event)
    event.presenters.add(colleague)
    assert may_lead(colleague, event, presenters=True) and not may_lead(colleague, event)
    assert not may_lead(stranger, event)
    assert can(head, Action.EVENT_ANNOUNCE, event)
    assert not can(consultant, Action.EVENT_ANNOUNCE, event)
