"""Questionnaires in the database: versions, one submission, drafts, risk alerts, the journal."""

import copy
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from opora.accounts.models import Role
from opora.core.errors import DomainError, NotFound, PermissionDenied
from opora.core.models import AuditEvent
from opora.demo.factories import make_consultant, make_user
from opora.notifications.models import Notification
from opora.scheduling.tests.factories import make_request, make_slot
from opora.surveys import scoring, selectors, services
from opora.surveys.instruments import GAD7, PHQ9
from opora.surveys.models import Instrument, InstrumentVersion, Response, Result
from opora.surveys.tests.factories import portal_assignment, version
from opora.surveys.tests.helpers import answers_for_total

pytestmark = pytest.mark.django_db


def test_the_shipped_instruments_load_once():
    from opora.surveys.loader import load_shipped

    assert load_shipped(Instrument, InstrumentVersion) == []  # already there: nothing written
    assert set(Instrument.objects.values_list("code", flat=True)) >= {
        "phq-9",
        "gad-7",
        "pss-10",
        "parental-stress",
    }
    assert version("phq-9").definition == PHQ9


def test_editing_makes_a_new_version_and_old_responses_keep_theirs(service, coordinator):
    assignment = portal_assignment(service, "gad-7")
    old = services.response_submit(assignment=assignment, answers=answers_for_total(GAD7, 9))
    changed = copy.deepcopy(GAD7)
    changed["bands"][1]["max"] = 10
    changed["bands"][2]["min"] = 11
    new = services.instrument_version_create(
        actor=coordinator, code="gad-7", name="GAD-7", definition=changed, is_public=True
    )
    assert new.number == 2
    old.refresh_from_db()
    assert old.version.number == 1
    assert old.band_definition()["max"] == 9
    assert version("gad-7") == new
    assert AuditEvent.objects.filter(event_type="survey.instrument_saved").count() == 1


def test_an_inconsistent_definition_is_refused_with_the_reason(coordinator):
    broken = copy.deepcopy(PHQ9)
    broken["risk_rules"] = [{"item": "12", "above": 0}]
    with pytest.raises(ValidationError) as err:
        services.instrument_version_create(
            actor=coordinator, code="phq-9", name="PHQ-9", definition=broken
        )
    assert "12" in str(err.value)
    assert version("phq-9").number == 1


def test_only_builders_save_definitions(consultant):
    with pytest.raises(PermissionDenied):
        services.instrument_version_create(
            actor=consultant, code="x", name="X", definition=copy.deepcopy(GAD7)
        )


def test_a_double_submit_is_stored_once(service):
    assignment = portal_assignment(service)
    answers = {str(n): 2 for n in range(1, 11)}
    first = services.response_submit(assignment=assignment, answers=answers, submit_key="k1")
    again = services.response_submit(assignment=assignment, answers=answers, submit_key="k1")
    other_tab = services.response_submit(
        assignment=assignment, answers={str(n): 0 for n in range(1, 11)}, submit_key="k2"
    )
    assert first.pk == again.pk == other_tab.pk
    assert Result.objects.count() == 1
    assert Response.objects.get().answers == answers


def test_one_response_per_assignment_in_the_database(service):
    from django.db import IntegrityError, transaction

    assignment = portal_assignment(service)
    Response.objects.create(assignment=assignment)
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(assignment=assignment)


def test_out_of_range_is_refused_with_the_item_named(service):
    assignment = portal_assignment(service)
    answers = {str(n): 1 for n in range(1, 11)}
    answers["7"] = 5
    with pytest.raises(scoring.AnswerError) as err:
        services.response_submit(assignment=assignment, answers=answers)
    assert err.value.item == "7"
    assert not Result.objects.exists()


def test_a_draft_is_kept_and_resumed(service):
    assignment = portal_assignment(service)
    services.response_save_draft(assignment=assignment, answers={"1": 3, "2": 1})
    services.response_save_draft(assignment=assignment, answers={"1": 3, "2": 1, "3": 0})
    response = Response.objects.get()
    assert (response.status, response.answers) == ("draft", {"1": 3, "2": 1, "3": 0})
    result = services.response_submit(
        assignment=assignment, answers={str(n): 1 for n in range(1, 11)}
    )
    assert result.response.pk == response.pk


def test_an_expired_link_is_refused(service):
    assignment = portal_assignment(service)
    assignment.expires_at = timezone.now() - dt.timedelta(minutes=1)
    assignment.save()
    with pytest.raises(DomainError) as err:
        services.response_submit(assignment=assignment, answers={str(n): 1 for n in range(1, 11)})
    assert err.value.code == "expired"


def test_a_risk_answer_alerts_the_on_duty_consultant_and_the_head_at_once(service, head):
    on_duty = make_consultant(service, email="duty@example.test")
    make_consultant(service, email="off@example.test")  # no slot now: not told
    head.email = "head@example.test"
    head.save()
    now = timezone.localtime(timezone.now(), service.tz)
    slot = make_slot(service, on_duty, now.date(), (now - dt.timedelta(minutes=5)).time())
    slot.ends_at = timezone.now() + dt.timedelta(minutes=30)
    slot.save()
    assignment = portal_assignment(service, "phq-9")
    answers = {str(n): 0 for n in range(1, 10)}
    answers["9"] = 2
    result = services.response_submit(assignment=assignment, answers=answers)
    assert result.risk is True
    sent = Notification.objects.filter(kind="survey_risk")
    assert sorted(sent.values_list("recipient", flat=True)) == [
        "duty@example.test",
        "head@example.test",
    ]
    for notification in sent:
        assert f"/staff/surveys/results/{result.pk}/" in notification.body
        assert "dead" not in notification.body and "hurting" not in notification.body
        assert notification.subject_type == "surveys.result"


def test_no_alert_without_a_risk_answer(service, head):
    head.email = "head@example.test"
    head.save()
    services.response_submit(
        assignment=portal_assignment(service, "phq-9"),
        answers=answers_for_total(PHQ9, 20),  # severe, item 9 = 0
    )
    assert not Notification.objects.filter(kind="survey_risk").exists()


def test_a_consultant_assigns_to_a_request_and_reads_results_audited(service, consultant):
    request = make_request(service)
    assignment = services.assignment_create(
        actor=consultant, service=service, version=version("pss-10"), request=request
    )
    result = services.response_submit(
        assignment=assignment, answers={str(n): 4 for n in range(1, 11)}
    )
    assert result.request == request
    assert (result.total, result.band) == (24, "moderate")
    assert selectors.results_for_request(actor=consultant, request=request) == [result]
    assert selectors.result_get_for_view(actor=consultant, pk=result.pk) == result
    assert AuditEvent.objects.filter(
        event_type="survey.results_viewed", subject_id=str(request.pk)
    ).exists()
    assert AuditEvent.objects.filter(
        event_type="survey.result_viewed", subject_id=str(result.pk), actor=consultant
    ).exists()


def test_another_service_cannot_read_the_results(service, consultant):
    from opora.demo.factories import make_service_1411

    other = make_service_1411()
    stranger = make_user(Role.CONSULTANT, service=other)
    result = services.response_submit(
        assignment=portal_assignment(service), answers={str(n): 1 for n in range(1, 11)}
    )
    # The policy's `survey.results` hides another service's results: not found, not forbidden.
    with pytest.raises(NotFound):
        selectors.result_get_for_view(actor=stranger, pk=result.pk)


def test_survey_services_for_the_journal(service):
    result = services.response_submit(
        assignment=portal_assignment(service), answers={str(n): 1 for n in range(1, 11)}
    )
    today = timezone.localdate(timezone.now(), service.tz)
    rows = selectors.survey_services_for_period(service, today, today)
    expected: list[selectors.SurveyServiceRow] = [
        {
            "id": result.pk,
            "created_at": result.created_at,
            "request_id": None,
            "band": "moderate",
            "risk": False,
            "total": 18,
            "instrument_code": "pss-10",
        }
    ]
    assert rows == expected
    assert (
        selectors.survey_services_for_period(
            service, today - dt.timedelta(days=3), today - dt.timedelta(days=1)
        )
        == []
    )


def test_a_private_instrument_is_not_opened_from_the_portal(service, coordinator):
    private = services.instrument_version_create(
        actor=coordinator, code="private-one", name="Private", definition=copy.deepcopy(GAD7)
    )
    with pytest.raises(PermissionDenied):
        services.assignment_create(actor=None, service=service, version=private)


def test_a_service_that_checks_eligibility_gives_questionnaires_only_through_a_consultant():
    from opora.demo.factories import make_service_1411

    kz = make_service_1411()
    assert services.portal_offers_surveys(kz) is False
    with pytest.raises(PermissionDenied):
        portal_assignment(kz)
    consultant = make_consultant(kz)
    assignment = services.assignment_create(
        actor=consultant, service=kz, version=version("phq-9"), request=make_request(kz)
    )
    assert assignment.source == "consultant"
