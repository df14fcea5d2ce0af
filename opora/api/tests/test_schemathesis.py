"""The API answers exactly its OpenAPI document: schemathesis generates requests for every operation
of `/api/v1/openapi.json` (loaded in-process from the WSGI application) and runs all its checks —
no 5xx, only declared status codes, declared content types, bodies and headers that match the schema.

Bounded so that it stays a unit test: a few examples per operation, derandomized, no deadline.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from opora.accounts.services import api_token_create
from opora.api.tests.test_api import make_slot, working_day
from opora.intake.models import ServiceRequest
from opora.scheduling.models import Booking

ALL_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
MAX_EXAMPLES = 15


@pytest.fixture
def schema(db):
    # As Django's test client does: a request through the WSGI handler must not close the test's
    # connection (which holds the test's transaction) when it finishes.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield _load()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _load() -> schemathesis.schemas.BaseSchema:
    # The WSGI application as opora.wsgi builds it (a test may not import the entry points).
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture
def records(operator, service, consultant) -> dict:
    """An operator's token and records for the generated requests to find: two free slots, a
    request and a booking (the ids are pinned in one pass, so that 200/201 bodies are checked too)."""
    day = working_day()
    free = make_slot(service, consultant, day, hour=14)
    booked = make_slot(service, consultant, day, hour=15)
    request = ServiceRequest.objects.create(
        service=service, full_name="Тестова Айгүл Серікқызы", phone="+7 701 000 00 01"
    )
    booking = Booking.objects.create(request=request, slot=booked)
    _, raw = api_token_create(user=operator)
    return {
        "token": raw,
        "path": {"request_id": request.pk, "booking_id": booking.pk},
        "query": {"service": service.code},
        "slot": free.pk,
        "request": request.pk,
    }


def _strategies(operation, records: dict) -> list:
    """Data that fits the document, data that does not, and data that names real records."""
    known: dict = {}
    path = {k: v for k, v in records["path"].items() if "{" + k + "}" in operation.path}
    if path:
        known["path_parameters"] = path
    if operation.path.startswith("/api/v1/slots"):
        known["query"] = dict(records["query"])
    return [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
        operation.as_strategy(GenerationMode.POSITIVE, **known),
    ]


def test_every_operation_answers_its_schema(schema, records):
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8, [op.label for op in operations]
    headers = {"Authorization": f"Bearer {records['token']}", "Accept-Language": "en"}
    statuses: set[int] = set()
    for operation in operations:
        for strategy in _strategies(operation, records):

            @given(case=strategy)
            @settings(
                max_examples=MAX_EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case) -> None:
                response = case.call_and_validate(headers=headers, checks=ALL_CHECKS)
                statuses.add(response.status_code)

            try:
                run()
            except Exception as exc:
                exc.add_note(f"operation: {operation.label}")
                raise
    # The crawl reached successful answers and the error answers, not only 404s.
    assert {200, 400, 404, 422} <= statuses, statuses


def test_unauthenticated_answers_match_the_schema(schema):
    """Without a token every operation answers the declared 401."""
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=3,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case) -> None:
            response = case.call_and_validate(checks=ALL_CHECKS)
            assert response.status_code == 401

        run()
