"""Writes for questionnaires: versions, assignments, drafts, submission (scored once) and the risk
alert to the service's on-duty consultants and heads."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.accounts import policy
from opora.accounts.actors import Actor
from opora.accounts.models import Role, User
from opora.accounts.policy import Action
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError, PermissionDenied
from opora.core.links import public_url
from opora.core.models import Service
from opora.intake.models import ServiceRequest
from opora.notifications.services import notification_create
from opora.scheduling.models import Slot
from opora.surveys import hooks, locks, scoring
from opora.surveys.models import Assignment, Instrument, InstrumentVersion, Response, Result

# How long a private link to a questionnaire stays open.
ASSIGNMENT_DAYS = 14
RISK_KIND = "survey_risk"


@transaction.atomic
def instrument_version_create(
    *,
    actor: User,
    code: str,
    name: str,
    definition: dict[str, Any],
    is_public: bool = False,
) -> InstrumentVersion:
    """Save a definition as the next version of instrument `code` (created when new).

    An inconsistent definition is refused (ValidationError naming the reason); earlier versions
    and the responses given to them are left as they were.
    """
    policy.require(actor, Action.SURVEY_BUILD)
    instrument = locks.instrument_qs_select_for_update().filter(code=code).first()
    if instrument is None:
        instrument = Instrument(code=code, name=name, is_public=is_public)
        instrument.full_clean()
        instrument.save()
    else:
        instrument.name = name
        instrument.is_public = is_public
        instrument.full_clean()
        instrument.save(update_fields=["name", "is_public"])
    number = (instrument.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = InstrumentVersion(
        instrument=instrument, number=number, definition=definition, created_by=actor
    )
    version.full_clean()
    version.save()
    audit_record(
        actor=actor,
        event_type=AuditEventType.SURVEY_INSTRUMENT_SAVED,
        subject=version,
        extra={"code": code, "number": number},
    )
    return version


def portal_offers_surveys(service: Service) -> bool:
    """Open questionnaires on the portal are anonymous (no name, no request), so a service offers
    them only where it takes anonymous requests and checks no eligibility (as for «Ask
    anonymously»); elsewhere a consultant assigns them to a request's client."""
    return bool(service.allows_anonymous and not service.requires_eligibility)


@transaction.atomic
def assignment_create(
    *,
    actor: Actor | None,
    service: Service,
    version: InstrumentVersion,
    request: ServiceRequest | None = None,
    days: int = ASSIGNMENT_DAYS,
) -> Assignment:
    """A private link to fill `version`: by staff for a request's client, or (actor None) opened
    by a visitor on the portal — then only for an instrument offered there."""
    if isinstance(actor, User):
        policy.require(actor, Action.SURVEY_ASSIGN, service=service)
        if request is not None and request.service_id != service.pk:
            raise PermissionDenied(_("The request belongs to another service."))
        source = Assignment.Source.CONSULTANT
    else:
        if not portal_offers_surveys(service):
            raise PermissionDenied(
                _("This service gives questionnaires through a consultant's private link only.")
            )
        if not version.instrument.is_public or not version.instrument.is_active:
            raise PermissionDenied(_("This questionnaire is not offered on the portal."))
        source = Assignment.Source.PORTAL
        request = None
    assignment = Assignment(
        service=service,
        version=version,
        request=request,
        source=source,
        assigned_by=actor if isinstance(actor, User) else None,
        token=secrets.token_urlsafe(24),
        expires_at=timezone.now() + dt.timedelta(days=days),
    )
    assignment.full_clean()
    assignment.save()
    if isinstance(actor, User):
        audit_record(
            actor=actor,
            event_type=AuditEventType.SURVEY_ASSIGNED,
            subject=assignment,
            extra={"code": version.instrument.code, "request_id": request.pk if request else None},
        )
    if request is not None:
        # A chat that can hold the questionnaire itself (the Telegram bot's buttons) gets it.
        hooks.assign_listeners_run(assignment)
    return assignment


def _lock(assignment: Assignment) -> Assignment:
    return (
        locks.assignment_qs_select_for_update()
        .select_related("version__instrument", "service")
        .get(pk=assignment.pk)
    )


def _require_open(assignment: Assignment) -> None:
    if assignment.is_expired:
        raise DomainError(_("This questionnaire link has expired."), code="expired")


@transaction.atomic
def response_save_draft(*, assignment: Assignment, answers: dict[str, Any]) -> Response:
    """Keep a partly filled questionnaire to resume later (values checked, gaps allowed)."""
    assignment = _lock(assignment)
    _require_open(assignment)
    cleaned = scoring.check_answers(assignment.version.definition, answers, partial=True)
    response, _created = Response.objects.get_or_create(assignment=assignment)
    if response.status == Response.Status.SUBMITTED:
        return response
    response.answers = cleaned
    response.save(update_fields=["answers", "updated_at"])
    return response


@transaction.atomic
def response_answer_one(*, assignment: Assignment, item: str, value: Any) -> tuple[Response, bool]:
    """Keep one answer in the draft, as a chat's button gives it: (the response, whether it
    changed). The same answer again (a double tap) changes nothing. An answer out of range
    raises `scoring.AnswerError` naming the item; a submitted response is left as it is."""
    assignment = _lock(assignment)
    _require_open(assignment)
    response, _created = Response.objects.get_or_create(assignment=assignment)
    if response.status == Response.Status.SUBMITTED:
        return response, False
    answers = dict(response.answers or {})
    cleaned = scoring.check_answers(
        assignment.version.definition, {**answers, item: value}, partial=True
    )
    if answers.get(item) == cleaned.get(item):
        return response, False
    response.answers = cleaned
    response.save(update_fields=["answers", "updated_at"])
    return response, True


@transaction.atomic
def response_submit(
    *, assignment: Assignment, answers: dict[str, Any], submit_key: str = ""
) -> Result:
    """Score and store the answers once. A second submit (double tap, another tab, the same
    key) returns the result already stored; an answer missing or out of range raises
    `scoring.AnswerError` naming the item. A risk answer alerts the service at once."""
    assignment = _lock(assignment)
    existing = Response.objects.filter(assignment=assignment).first()
    if existing is not None and existing.status == Response.Status.SUBMITTED:
        return existing.result
    _require_open(assignment)
    definition = assignment.version.definition
    cleaned = scoring.check_answers(definition, answers)
    computed = scoring.score(definition, cleaned)
    response = existing or Response(assignment=assignment)
    response.answers = cleaned
    response.status = Response.Status.SUBMITTED
    response.submitted_at = timezone.now()
    response.submit_key = submit_key[:64] or None
    try:
        with transaction.atomic():
            response.save()
    except IntegrityError:
        # The key was used already: that submission is this one.
        return Result.objects.get(response__submit_key=submit_key[:64])
    result = Result.objects.create(
        response=response,
        service=assignment.service,
        request=assignment.request,
        version=assignment.version,
        total=computed.total,
        band=computed.band,
        subscales=computed.subscales,
        risk=computed.risk,
        risk_items=list(computed.risk_items),
    )
    audit_record(
        actor=None,
        event_type=AuditEventType.SURVEY_SUBMITTED,
        subject=result,
        extra={"code": assignment.version.instrument.code, "risk": computed.risk},
    )
    if computed.risk:
        _alert_risk(result=result, assignment=assignment)
    return result


def risk_recipients(*, service: Service, assignment: Assignment | None = None) -> list[User]:
    """Who hears of a risk answer: the consultants on duty now (a slot of theirs is running), the
    one who assigned the questionnaire, and the service's heads."""
    now = timezone.now()
    on_duty = Slot.objects.filter(
        service=service, is_open=True, starts_at__lte=now, ends_at__gt=now
    ).values("consultant_id")
    users = User.objects.filter(is_active=True, services=service).filter(
        pk__in=on_duty
    ) | User.objects.filter(is_active=True, services=service, role=Role.HEAD)
    chosen = {u.pk: u for u in users.distinct()}
    assigned_by = assignment.assigned_by if assignment is not None else None
    if assigned_by is not None and assigned_by.is_active:
        chosen.setdefault(assigned_by.pk, assigned_by)
    return [chosen[pk] for pk in sorted(chosen)]


def _alert_risk(*, result: Result, assignment: Assignment) -> int:
    """One stored notice per recipient with only the link to the result (never the answers)."""
    url = public_url(reverse("surveys:result", args=[result.pk]))
    sent = 0
    for user in risk_recipients(service=assignment.service, assignment=assignment):
        if not user.email:
            continue
        notification_create(
            channel="email",
            recipient=user.email,
            subject=str(_("A questionnaire answer needs attention now")),
            body=str(
                _(
                    "A client's answers to a questionnaire of the service “%(service)s” meet a "
                    "risk rule. Open the result at once: %(url)s"
                )
                % {"service": assignment.service.display_name, "url": url}
            ),
            kind=RISK_KIND,
            about=result,
            dedupe_key=f"{RISK_KIND}:{result.pk}:{user.pk}",
            copy_to_messengers=False,
        )
        sent += 1
    audit_record(
        actor=None,
        event_type=AuditEventType.SURVEY_RISK_ALERTED,
        subject=result,
        extra={"recipients": sent},
    )
    return sent
