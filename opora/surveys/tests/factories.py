"""Test data for questionnaires. Everything is synthetic."""

from opora.surveys.models import Assignment, InstrumentVersion
from opora.surveys.services import assignment_create


def version(code: str) -> InstrumentVersion:
    return InstrumentVersion.objects.filter(instrument__code=code).order_by("-number").first()


def portal_assignment(service, code: str = "pss-10") -> Assignment:
    return assignment_create(actor=None, service=service, version=version(code))
