"""The client's pages (portal, private link, feedback) and the staff's pages, in the browser's
terms: forms posted, what the page says."""

import copy
import json

import pytest
from django.urls import reverse

from opora.core.models import AuditEvent
from opora.notifications.models import Notification
from opora.scheduling.tests.factories import make_request
from opora.surveys import services
from opora.surveys.instruments import GAD7
from opora.surveys.models import Assignment, InstrumentVersion, Result
from opora.surveys.tests.factories import portal_assignment, version

pytestmark = pytest.mark.django_db


def _post_answers(client, token, answers, action="submit", key="key-1"):
    data = {f"item-{k}": v for k, v in answers.items()}
    data.update({"action": action, "submit_key": key})
    return client.post(reverse("surveys:fill", args=[token]), data)


def test_portal_to_feedback_and_booking(client, service):
    page = client.get(f"/s/{service.code}/survey/")
    assert "PSS-10" in page.content.decode()
    start = client.post(f"/s/{service.code}/survey/pss-10/")
    token = Assignment.objects.get().token
    assert start.url == f"/s/survey/{token}/"
    # Leaving and coming back resumes the same link.
    assert client.get(f"/s/{service.code}/survey/pss-10/").url == f"/s/survey/{token}/"
    form = client.get(start.url)
    assert form["Cache-Control"] == "no-store"
    assert 'name="item-10"' in form.content.decode()
    _post_answers(client, token, {"1": 3, "2": 3}, action="draft")
    assert 'value="3" checked' in client.get(start.url).content.decode()
    answers = {str(n): 4 for n in range(1, 11)}
    done = _post_answers(client, token, answers)
    assert done.url == reverse("surveys:done", args=[token])
    feedback = client.get(done.url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "24" in feedback
    assert (
        reverse("portal:book", args=[service.code]) in feedback
        or reverse("portal:request", args=[service.code]) in feedback
    )
    assert 'id="crisis-contacts"' not in feedback
    # The same form sent again (double tap) does not make a second result.
    _post_answers(client, token, answers)
    assert Result.objects.count() == 1


def test_a_missing_answer_keeps_what_was_typed_and_names_the_item(client, service):
    token = portal_assignment(service).token
    answers = {str(n): 1 for n in range(1, 11) if n != 6}
    page = _post_answers(client, token, answers)
    assert page.status_code == 422
    body = page.content.decode()
    assert 'href="#item-6"' in body
    assert 'id="i-1-2" name="item-1" value="1" checked' in body
    assert not Result.objects.exists()


def test_a_risk_answer_shows_crisis_contacts_and_alerts(client, service, head):
    head.email = "head@example.test"
    head.save()
    token = portal_assignment(service, "phq-9").token
    answers = {str(n): 0 for n in range(1, 10)}
    answers["9"] = 1
    done = _post_answers(client, token, answers)
    page = client.get(done.url).content.decode()
    assert 'id="crisis-contacts"' in page
    assert "112" in page
    assert Notification.objects.filter(kind="survey_risk", recipient="head@example.test").exists()


def test_an_expired_link_says_the_window_closed(client, service):
    import datetime as dt

    from django.utils import timezone

    assignment = portal_assignment(service)
    assignment.expires_at = timezone.now() - dt.timedelta(days=1)
    assignment.save()
    page = client.get(reverse("surveys:fill", args=[assignment.token]))
    assert page.status_code == 410
    assert 'id="closed-text"' in page.content.decode()


def test_an_unknown_link_is_404(client):
    assert client.get("/s/survey/nothing-here/").status_code == 404


def test_the_builder_refuses_a_gap_and_previews_a_good_definition(client, coordinator):
    client.force_login(coordinator)
    broken = copy.deepcopy(GAD7)
    broken["bands"][0]["max"] = 3
    page = client.post(
        reverse("surveys:instrument_new"),
        {"code": "gad-x", "name": "GAD X", "definition": json.dumps(broken), "action": "save"},
    )
    assert page.status_code == 400
    assert "4–4" in page.content.decode()
    assert not InstrumentVersion.objects.filter(instrument__code="gad-x").exists()
    page = client.post(
        reverse("surveys:instrument_new"),
        {"code": "gad-x", "name": "GAD X", "definition": json.dumps(GAD7), "action": "preview"},
    )
    assert 'id="preview"' in page.content.decode()
    saved = client.post(
        reverse("surveys:instrument_new"),
        {"code": "gad-x", "name": "GAD X", "definition": json.dumps(GAD7), "action": "save"},
    )
    assert saved.url == reverse("surveys:instrument_edit", args=["gad-x"])
    assert version("gad-x").number == 1


def test_the_builder_is_for_coordinators(client, consultant):
    client.force_login(consultant)
    assert client.get(reverse("surveys:instruments")).status_code == 403


def test_the_consultant_assigns_and_sees_the_result(client, service, consultant):
    request = make_request(service)
    client.force_login(consultant)
    url = reverse("surveys:request_results", args=[request.pk])
    client.post(url, {"instrument": "gad-7"})
    assignment = Assignment.objects.get(request=request)
    services.response_submit(assignment=assignment, answers={str(n): 2 for n in range(1, 8)})
    page = client.get(url).content.decode()
    assert assignment.token in page
    result = Result.objects.get()
    detail = client.get(reverse("surveys:result", args=[result.pk])).content.decode()
    assert 'id="result-total">14<' in detail
    assert AuditEvent.objects.filter(event_type="survey.result_viewed").exists()


def test_a_service_that_checks_eligibility_points_to_the_consultant(client):
    from opora.demo.factories import make_service_1411

    kz = make_service_1411()
    page = client.get(f"/s/{kz.code}/survey/").content.decode()
    assert 'id="surveys-by-consultant"' in page
    assert "survey-pss-10" not in page
    assert client.get(f"/s/{kz.code}/survey/pss-10/").status_code == 404


def test_editing_in_the_builder_makes_version_2(client, coordinator):
    client.force_login(coordinator)
    url = reverse("surveys:instrument_edit", args=["pss-10"])
    page = client.get(url).content.decode()
    assert "Perceived Stress Scale" in page
    changed = copy.deepcopy(version("pss-10").definition)
    changed["instructions"] = {"en": "In the last month…"}
    client.post(
        url,
        {"code": "other", "name": "PSS-10", "definition": json.dumps(changed), "action": "save"},
    )
    assert version("pss-10").number == 2
    assert InstrumentVersion.objects.filter(instrument__code="pss-10").count() == 2
    assert not InstrumentVersion.objects.filter(instrument__code="other").exists()
