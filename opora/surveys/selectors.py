"""Reads for questionnaires. The selectors that return a person's results record the read."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, TypedDict

from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from opora.accounts import policy
from opora.accounts.models import User
from opora.accounts.policy import Action
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import NotFound
from opora.core.models import Service
from opora.intake.models import ServiceRequest
from opora.surveys.models import Assignment, Instrument, InstrumentVersion, Result

if TYPE_CHECKING:
    from typing_extensions import ReadOnly


def instruments_public() -> QuerySet[Instrument]:
    """The instruments the portal offers openly (with at least one version)."""
    return Instrument.objects.filter(
        is_public=True, is_active=True, versions__isnull=False
    ).distinct()


def instruments_all() -> QuerySet[Instrument]:
    return Instrument.objects.filter(is_active=True).prefetch_related("versions")


def instrument_public_get(*, code: str) -> tuple[Instrument, InstrumentVersion]:
    instrument = instruments_public().filter(code=code).first()
    version = instrument.current_version if instrument else None
    if instrument is None or version is None:
        raise NotFound(_("Questionnaire not found."))
    return instrument, version


def instrument_version_current(*, code: str) -> InstrumentVersion:
    """The current version of an active instrument (any, public or not); NotFound otherwise."""
    version = (
        InstrumentVersion.objects.filter(instrument__code=code, instrument__is_active=True)
        .select_related("instrument")
        .order_by("-number")
        .first()
    )
    if version is None:
        raise NotFound(_("Unknown questionnaire “%(code)s”.") % {"code": code})
    return version


def assignment_by_token(*, token: str) -> Assignment:
    assignment = (
        Assignment.objects.select_related("version__instrument", "service", "request")
        .filter(token=token)
        .first()
    )
    if assignment is None:
        raise NotFound(_("Questionnaire not found."))
    return assignment


def _require_reader(actor: User, service: Service) -> None:
    policy.require(actor, Action.SURVEY_RESULTS, service=service)


def result_get_for_view(*, actor: User, pk: int) -> Result:
    """One result with its answers for a consultant or head of its service; the read is audited."""
    result = (
        Result.objects.select_related(
            "service", "request", "version__instrument", "response__assignment"
        )
        .filter(pk=pk)
        .first()
    )
    if result is None:
        raise NotFound(_("Result not found."))
    _require_reader(actor, result.service)
    audit_record(actor=actor, event_type=AuditEventType.SURVEY_RESULT_VIEWED, subject=result)
    return result


def request_for_results(*, actor: User, pk: int) -> ServiceRequest:
    """A request of the actor's service for its questionnaire page; NotFound otherwise."""
    request = ServiceRequest.objects.select_related("service").filter(pk=pk).first()
    if request is None:
        raise NotFound(_("Request not found."))
    _require_reader(actor, request.service)
    return request


def results_for_request(*, actor: User, request: ServiceRequest) -> list[Result]:
    """The results of a request's client (this request and the client's other requests in the
    same service), newest first; the read is audited on the request."""
    _require_reader(actor, request.service)
    results = Result.objects.select_related("version__instrument").filter(service=request.service)
    if request.client_id:
        results = results.filter(request__client_id=request.client_id)
    else:
        results = results.filter(request=request)
    rows = list(results.order_by("-created_at"))
    audit_record(
        actor=actor,
        event_type=AuditEventType.SURVEY_RESULTS_VIEWED,
        subject=request,
        extra={"count": len(rows)},
    )
    return rows


def assignments_for_request(*, actor: User, request: ServiceRequest) -> list[Assignment]:
    _require_reader(actor, request.service)
    return list(
        Assignment.objects.select_related("version__instrument")
        .filter(request=request)
        .order_by("-created_at")
    )


class SurveyServiceRow(TypedDict):
    """A row of `survey_services_for_period`."""

    id: ReadOnly[int]
    created_at: ReadOnly[dt.datetime]
    request_id: ReadOnly[int | None]
    band: ReadOnly[str]
    risk: ReadOnly[bool]
    total: ReadOnly[int]
    instrument_code: ReadOnly[str]


def survey_services_for_period(
    service: Service, date_from: dt.date, date_to: dt.date
) -> list[SurveyServiceRow]:
    """Submitted questionnaires of `service` whose result falls on a day in [date_from, date_to]
    (the service's local days): each one a service of the survey kind for the journal.

    Rows (`values()`): id, created_at, request_id (None for an anonymous portal survey),
    instrument code, band and risk — no answers, no names.
    """
    tz = service.tz
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return list(
        Result.objects.filter(service=service, created_at__gte=start, created_at__lt=end)
        .order_by("created_at", "pk")
        .values(
            "id",
            "created_at",
            "request_id",
            "band",
            "risk",
            "total",
            instrument_code=F("version__instrument__code"),
        )
    )
