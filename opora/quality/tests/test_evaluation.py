"""The evaluation of a service: its 3-day window in the service's zone, one per service, the
invitation and the one reminder from the sweep, drafts, one submission, the low-score alert and
the consultant's anonymity."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from opora.accounts.models import Role
from opora.core.audit import AuditEventType
from opora.core.models import AuditEvent, Service
from opora.demo.factories import make_user
from opora.intake.models import ServiceRequest
from opora.notifications.models import Notification
from opora.notifications.sms import sms_segments
from opora.quality import selectors, services
from opora.quality.models import Evaluation, QualitySettings
from opora.quality.tests.factories import answers, make_held_consultation

pytestmark = pytest.mark.django_db


def _sweep(now=None):
    return services.evaluations_sweep(now=now or timezone.now())


def _evaluation(consultation) -> Evaluation:
    return Evaluation.objects.get(request_id=consultation.booking.request_id)


@pytest.mark.parametrize(
    ("zone", "closes_utc"),
    [
        # 20:00 UTC on 5 December is already 6 December in Almaty (UTC+5): open through 9 December.
        ("Asia/Almaty", dt.datetime(2026, 12, 9, 19, 0, tzinfo=dt.UTC)),
        # ...and still 5 December in Moscow (UTC+3): open through 8 December.
        ("Europe/Moscow", dt.datetime(2026, 12, 8, 21, 0, tzinfo=dt.UTC)),
    ],
)
def test_window_is_three_calendar_days_in_the_services_zone(zone, closes_utc):
    service = Service(time_zone=zone)
    served = dt.datetime(2026, 12, 5, 20, 0, tzinfo=dt.UTC)
    assert services.window_closes_at(service=service, served_at=served) == closes_utc


def test_the_sweep_opens_one_evaluation_and_one_invitation_per_service(service, consultant):
    held = make_held_consultation(service, consultant, email="parent@example.org")
    result = _sweep()
    assert result["opened"] == 1
    evaluation = _evaluation(held)
    assert evaluation.consultation_id == held.pk
    assert evaluation.consultant_id == consultant.pk
    assert evaluation.invited_at is not None and evaluation.invite_channels == 2
    invites = Notification.objects.filter(kind=services.KIND_INVITE)
    assert sorted(invites.values_list("channel", flat=True)) == ["email", "sms"]
    email = invites.get(channel="email")
    assert "/l/" in email.action_url and email.action_url in email.body
    assert email.action_url in email.html_body
    sms = invites.get(channel="sms")
    assert sms_segments(sms.body) <= 2 and email.action_url in sms.body
    # Again, and again concurrently with the room's closing page: nothing more.
    assert services.evaluation_open(request=held.booking.request) == evaluation
    assert _sweep() == {"opened": 0, "messages": 0, "reminder_messages": 0}
    assert Evaluation.objects.count() == 1
    assert Notification.objects.filter(kind=services.KIND_INVITE).count() == 2


def test_the_sweep_skips_services_not_given_and_old_ones(service, consultant):
    from opora.scheduling.tests.factories import make_request

    make_request(service)  # new
    make_request(service, status=ServiceRequest.Status.CANCELLED)
    old = make_request(service, status=ServiceRequest.Status.DONE)
    ServiceRequest.objects.filter(pk=old.pk).update(
        updated_at=timezone.now() - dt.timedelta(days=10)
    )
    written = make_request(service, status=ServiceRequest.Status.DONE, channel="email")
    _sweep()
    assert list(Evaluation.objects.values_list("request_id", "form")) == [(written.pk, "written")]


def test_anonymous_requester_without_a_contact_gets_no_message(service, consultant):
    held = make_held_consultation(service, consultant, is_anonymous=True, full_name="", phone="")
    _sweep()
    evaluation = _evaluation(held)
    assert evaluation.invite_channels == 0
    assert not Notification.objects.exists()
    # The room's closing page still offers the questionnaire.
    assert selectors.evaluation_link_for_request(held.booking.request).endswith(
        f"/q/{evaluation.token}/"
    )


def test_one_reminder_after_48_hours(service, consultant):
    held = make_held_consultation(service, consultant)
    now = timezone.now()
    _sweep(now)
    assert _sweep(now + dt.timedelta(hours=47))["reminder_messages"] == 0
    assert _sweep(now + dt.timedelta(hours=49))["reminder_messages"] == 1
    assert _sweep(now + dt.timedelta(hours=50))["reminder_messages"] == 0
    assert Notification.objects.filter(kind=services.KIND_REMINDER).count() == 1
    assert _evaluation(held).reminder_sent_at is not None


def test_no_reminder_once_answered(service, consultant):
    held = make_held_consultation(service, consultant)
    now = timezone.now()
    _sweep(now)
    services.evaluation_submit(evaluation=_evaluation(held), data=answers(4), now=now)
    assert _sweep(now + dt.timedelta(hours=49))["reminder_messages"] == 0


def test_the_draft_is_kept_and_resumed(service, consultant, client):
    held = make_held_consultation(service, consultant)
    evaluation = services.evaluation_open(request=held.booking.request)
    services.evaluation_save_draft(evaluation=evaluation, data={"q1": "4", "more_of": "theory"})
    evaluation.refresh_from_db()
    assert (evaluation.q1, evaluation.q2, evaluation.more_of) == (4, None, "theory")
    assert evaluation.submitted_at is None
    page = client.get(f"/q/{evaluation.token}/").content.decode()
    assert 'id="q1-4" value="4" checked' in page
    assert 'id="more_of-theory" value="theory" checked' in page
    # A later part of the draft keeps the earlier one.
    services.evaluation_save_draft(evaluation=evaluation, data={"q2": "5"})
    evaluation.refresh_from_db()
    assert (evaluation.q1, evaluation.q2) == (4, 5)


def test_a_double_submission_is_stored_once(service, consultant):
    held = make_held_consultation(service, consultant)
    evaluation = services.evaluation_open(request=held.booking.request)
    first, created = services.evaluation_submit(evaluation=evaluation, data=answers(5))
    second, created_again = services.evaluation_submit(evaluation=evaluation, data=answers(1))
    assert (created, created_again) == (True, False)
    assert second.scores() == [5] * 7 and second.submitted_at == first.submitted_at
    assert (
        AuditEvent.objects.filter(event_type=AuditEventType.QUALITY_EVALUATION_SUBMITTED).count()
        == 1
    )
    with pytest.raises(services.AlreadySubmitted):
        services.evaluation_save_draft(evaluation=evaluation, data={"q1": "2"})


def test_out_of_range_and_missing_answers_are_refused_with_the_item_named(service, consultant):
    held = make_held_consultation(service, consultant)
    evaluation = services.evaluation_open(request=held.booking.request)
    with translation.override("ru"), pytest.raises(ValidationError) as refused:
        services.evaluation_submit(evaluation=evaluation, data=answers(5, q3="7", q6=""))
    errors = refused.value.message_dict
    assert set(errors) == {"q3", "q6"}
    assert "Эмоциональный комфорт проведения д/к" in errors["q3"][0]
    assert "Улучшение Вашего эмоционального состояния после д/к" in errors["q6"][0]
    with pytest.raises(ValidationError) as refused:
        services.evaluation_save_draft(evaluation=evaluation, data={"q1": "0", "more_of": "x"})
    assert set(refused.value.message_dict) == {"q1", "more_of"}
    evaluation.refresh_from_db()
    assert evaluation.submitted_at is None and evaluation.q1 is None


def test_after_the_window_the_link_says_it_closed_and_offers_contact(service, consultant, client):
    held = make_held_consultation(service, consultant)
    evaluation = services.evaluation_open(request=held.booking.request)
    with pytest.raises(services.WindowClosed):
        services.evaluation_submit(evaluation=evaluation, data=answers(5), now=evaluation.closes_at)
    Evaluation.objects.filter(pk=evaluation.pk).update(
        closes_at=timezone.now() - dt.timedelta(seconds=1),
        served_at=timezone.now() - dt.timedelta(days=4),
    )
    response = client.get(f"/q/{evaluation.token}/", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 410
    page = response.content.decode()
    assert 'id="evaluation-closed"' in page
    assert service.public_phone and service.public_phone in page
    assert selectors.evaluation_link_for_request(held.booking.request) is None


def test_a_low_score_alerts_the_head_without_the_answers(service, consultant):
    head = make_user(Role.HEAD, service=service, email="head@example.org")
    held = make_held_consultation(service, consultant)
    evaluation = services.evaluation_open(request=held.booking.request)
    services.evaluation_submit(
        evaluation=evaluation, data=answers(2, impressions="Секретное впечатление")
    )
    alert = Notification.objects.get(kind=services.KIND_LOW_SCORE)
    assert alert.recipient == head.email
    # Where it came from, in the service's language; never the answers nor their average.
    assert f"консультация № {held.pk}" in alert.body
    assert f"#{held.booking.request_id}" in alert.body
    assert "Секретное" not in alert.body
    assert "2.00" not in alert.body and "2,00" not in alert.body
    assert AuditEvent.objects.filter(event_type=AuditEventType.QUALITY_LOW_SCORE_ALERTED).exists()


def test_the_threshold_is_per_service(service, consultant):
    make_user(Role.HEAD, service=service, email="head@example.org")
    QualitySettings.objects.create(service=service, low_score_threshold="4.5")
    good = make_held_consultation(service, consultant)
    services.evaluation_submit(
        evaluation=services.evaluation_open(request=good.booking.request), data=answers(5)
    )
    assert not Notification.objects.filter(kind=services.KIND_LOW_SCORE).exists()
    fair = make_held_consultation(service, consultant)
    services.evaluation_submit(
        evaluation=services.evaluation_open(request=fair.booking.request), data=answers(4)
    )
    assert Notification.objects.filter(kind=services.KIND_LOW_SCORE).count() == 1


def test_a_consultant_sees_aggregates_only_from_five_responses(service, consultant, client):
    today = timezone.localdate(timezone=service.tz)
    period = {"date_from": today - dt.timedelta(days=1), "date_to": today + dt.timedelta(days=1)}
    for score in (5, 4, 3, 4):
        held = make_held_consultation(service, consultant)
        services.evaluation_submit(
            evaluation=services.evaluation_open(request=held.booking.request),
            data=answers(score, impressions="Личное мнение"),
        )
    group, answered = selectors.results_for_consultant(actor=consultant, service=service, **period)
    assert (group, answered) == (None, 4)
    client.force_login(consultant)
    page = client.get("/quality/mine/").content.decode()
    assert 'id="mine-hidden"' in page and "mine-table" not in page
    held = make_held_consultation(service, consultant)
    services.evaluation_submit(
        evaluation=services.evaluation_open(request=held.booking.request), data=answers(4)
    )
    group, answered = selectors.results_for_consultant(actor=consultant, service=service, **period)
    assert answered == 5 and str(group.mean) == "4.00"
    page = client.get("/quality/mine/").content.decode()
    assert 'id="mine-table"' in page and "Личное мнение" not in page


def test_the_heads_results_are_audited_and_closed_to_consultants(service, consultant, head, client):
    held = make_held_consultation(service, consultant)
    services.evaluation_submit(
        evaluation=services.evaluation_open(request=held.booking.request),
        data=answers(5, wishes="Больше примеров"),
    )
    client.force_login(head)
    response = client.get("/quality/results/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="table-consultant"' in page and consultant.display_name in page
    assert "100% (1 / 1)" in page  # the response rate
    assert "Больше примеров" in page  # heads read the free answers, without the parent's name
    assert held.booking.request.full_name not in page
    assert AuditEvent.objects.filter(
        event_type=AuditEventType.QUALITY_RESULTS_VIEWED, actor=head
    ).exists()
    client.force_login(consultant)
    assert client.get("/quality/results/").status_code == 403


def test_the_public_page_refuses_out_of_range_and_stores_the_submission(
    service, consultant, client
):
    held = make_held_consultation(service, consultant)
    evaluation = services.evaluation_open(request=held.booking.request)
    url = f"/q/{evaluation.token}/"
    response = client.post(url, {**answers(5), "q7": "6", "action": "submit"})
    assert response.status_code == 400
    assert "Оцените деятельность специалиста, проводившего д/к." in response.content.decode()
    # htmx saves the draft on each change.
    assert client.post(f"{url}draft/", {"q1": "3"}).status_code == 200
    evaluation.refresh_from_db()
    assert evaluation.q1 == 3
    response = client.post(url, {**answers(4), "more_of": "enough", "action": "submit"})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "Благодарим Вас за сотрудничество!" in page
    evaluation.refresh_from_db()
    assert evaluation.scores() == [4] * 7 and evaluation.more_of == "enough"


def test_the_room_closing_page_tag_opens_and_links_the_questionnaire(service, consultant):
    from django.template import Context, Template

    held = make_held_consultation(service, consultant)
    html = Template("{% load quality_links %}{% evaluation_invitation r %}").render(
        Context({"r": held.booking.request})
    )
    assert f"/q/{_evaluation(held).token}/" in html
    not_given = held.booking.request.__class__.objects.create(
        service=service, full_name="Тестова Айгерим", phone="+77010009999"
    )
    html = Template("{% load quality_links %}{% evaluation_invitation r %}").render(
        Context({"r": not_given})
    )
    assert "evaluation-link" not in html


def test_the_beat_entry_runs_the_sweep_under_the_embedded_scheduler(settings, service, consultant):
    from opora.core.management.commands.scheduler import run_tick

    entries = [
        name
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if entry["task"].startswith("opora.quality.")
    ]
    assert entries == ["quality-sweep"]
    held = make_held_consultation(service, consultant)
    assert run_tick()["quality-sweep"] == "ok"
    assert _evaluation(held).invite_channels == 1


@pytest.mark.django_db(transaction=True)
def test_two_tabs_sending_at_once_store_one_response(service, consultant):
    import threading

    from django.db import connection

    held = make_held_consultation(service, consultant)
    evaluation = services.evaluation_open(request=held.booking.request)
    barrier = threading.Barrier(2)
    outcomes = []

    def send(score):
        try:
            barrier.wait()
            outcomes.append(services.evaluation_submit(evaluation=evaluation, data=answers(score)))
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(score,)) for score in (5, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(created for _e, created in outcomes) == [False, True]
    evaluation.refresh_from_db()
    winner = next(e for e, created in outcomes if created)
    assert evaluation.scores() == winner.scores()
    assert (
        AuditEvent.objects.filter(event_type=AuditEventType.QUALITY_EVALUATION_SUBMITTED).count()
        == 1
    )
