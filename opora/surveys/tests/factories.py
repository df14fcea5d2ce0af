"""Test data for questionnaires. Everything is synthetic."""

from opora.surveys.models import Assignment, InstrumentVersion
from opora.surveys.services import assignment_create


def version(code: str) -> InstrumentVersion:
    found = InstrumentVersion.objects.filter(instrument__code=code).order_by("-number").first()
    assert found is not None, code
    return found


def portal_assignment(service, code: str = "pss-10") -> Assignment:
    return assignment_create(actor=None, service=service, version=version(code))
