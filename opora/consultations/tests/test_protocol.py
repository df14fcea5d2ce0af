"""After the consultation: protocol, technical failure (counted once), no-show, phone, crisis,
the 60-minute warnings and the journal of online consultations (regulation 002 Appendix 3)."""

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from opora.accounts.models import Role
from opora.consultations import selectors, services
from opora.consultations.models import (
    Consultation,
    CrisisAlert,
    Protocol,
    Topic,
)
from opora.consultations.tests.factories import make_live_consultation
from opora.core.errors import DomainError
from opora.core.models import AuditEvent
from opora.demo.factories import make_user
from opora.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _russian():
    # The regulation's wording is asserted; another test may leave another language active.
    with translation.override("ru"):
        yield


PROTOCOL = {
    "child_name": "Тестов Арман",
    "child_age": 7,
    "reason": "Ребёнок не спит по ночам",
    "topic": Topic.FAMILY,
    "solution": "Режим дня, консультация невролога",
    "materials": "https://example.org/sleep",
    "kind": Protocol.Kind.PRIMARY,
    "next_consultation": "",
    "note": "",
}


@pytest.fixture
def head(service):
    return make_user(
        Role.HEAD,
        service=service,
        organisation=service.provider_organisation,
        email="head@example.org",
    )


@pytest.fixture
def live(service, consultant):
    return make_live_consultation(service, consultant)


def ended(service, consultant, **kw):
    c = make_live_consultation(service, consultant, **kw)
    services.consultation_admit(consultation_id=c.pk, actor=consultant)
    return services.consultation_end(consultation_id=c.pk, actor=consultant)


def head_mail(kind):
    return Notification.objects.filter(kind=kind, recipient="head@example.org", channel="email")


class TestNoShowAndPhone:
    def test_no_show_only_after_the_start(self, service, consultant):
        future = make_live_consultation(service, consultant, starts_in=dt.timedelta(minutes=10))
        with pytest.raises(DomainError) as e:
            services.consultation_mark_no_show(actor=consultant, consultation=future)
        assert e.value.code == "too_early"
        later = future.booking.slot.starts_at + dt.timedelta(minutes=1)
        c = services.consultation_mark_no_show(actor=consultant, consultation=future, now=later)
        assert c.status == Consultation.Status.NO_SHOW
        assert not selectors.journal_consultations(actor=consultant, service=service).exists()

    def test_no_show_not_after_admission(self, live, consultant):
        services.consultation_admit(consultation_id=live.pk, actor=consultant)
        with pytest.raises(DomainError):
            services.consultation_mark_no_show(actor=consultant, consultation=live)

    def test_phone_is_logged(self, live, consultant):
        c = services.consultation_mark_phone(actor=consultant, consultation=live)
        assert c.mode == "phone" and c.status == Consultation.Status.IN_PROGRESS
        assert AuditEvent.objects.filter(event_type="consultation.mode", extra__mode="phone")


class TestCrisis:
    def test_button_alerts_the_heads_at_once(self, client, live, consultant, head):
        client.force_login(consultant)
        r = client.post(
            reverse("consultations:crisis", args=[live.pk]), HTTP_ACCEPT="application/json"
        )
        assert r.status_code == 200
        alert = CrisisAlert.objects.get()
        assert alert.source == "button" and alert.raised_by == consultant
        assert head_mail("crisis_alert").count() == 1

    def test_room_shows_protocol_and_the_countrys_numbers(self, client, live, consultant):
        client.force_login(consultant)
        r = client.get(reverse("consultations:consultant_room", args=[live.pk]) + "?crisis=1")
        html = r.content.decode()
        assert 'id="crisis"' in html and "hidden" not in html.split('id="crisis"')[1][:80]
        for number in ("112", "102", "103", "150"):
            assert f'href="tel:{number}"' in html
        live.booking.slot.service.country = "RU"
        live.booking.slot.service.save()
        html = client.get(reverse("consultations:consultant_room", args=[live.pk])).content
        assert b"8-800-2000-122" in html and b'href="tel:150"' not in html

    def test_crisis_topic_in_the_protocol_alerts_once(self, service, consultant, head):
        c = ended(service, consultant)
        data = {**PROTOCOL, "topic": Topic.CRISIS_SUICIDE}
        services.protocol_save(actor=consultant, consultation=c, **data)
        services.protocol_save(actor=consultant, consultation=c, **data)
        alert = CrisisAlert.objects.get()
        assert alert.source == "topic" and alert.topic == "6.1"
        assert head_mail("crisis_alert").count() == 1


class TestProtocol:
    def test_saved_with_audit(self, service, consultant):
        c = ended(service, consultant)
        p = services.protocol_save(actor=consultant, consultation=c, **PROTOCOL)
        assert p.consultation == c and p.get_topic_display() == "1. Семейные проблемы"
        assert AuditEvent.objects.filter(event_type="protocol.created", subject_id=str(p.pk))

    def test_errors_name_the_fields(self, service, consultant):
        c = ended(service, consultant)
        with pytest.raises(ValidationError) as e:
            services.protocol_save(
                actor=consultant,
                consultation=c,
                **{**PROTOCOL, "reason": " ", "solution": "", "topic": "8", "kind": ""},
            )
        assert {"reason", "solution", "topic", "kind"} <= set(e.value.message_dict)

    def test_only_after_the_end_and_only_by_the_booked_consultant(self, service, live, consultant):
        with pytest.raises(DomainError):
            services.protocol_save(actor=consultant, consultation=live, **PROTOCOL)
        c = ended(service, consultant, starts_in=dt.timedelta(hours=-2))
        other = make_user(Role.CONSULTANT, service=service)
        with pytest.raises(PermissionDenied):
            services.protocol_save(actor=other, consultation=c, **PROTOCOL)

    def test_repeat_suggested_for_a_client_seen_before(self, service, consultant):
        first = ended(service, consultant, starts_in=dt.timedelta(days=-2))
        assert selectors.protocol_kind_suggestion(first) == Protocol.Kind.PRIMARY
        second = make_live_consultation(service, consultant)
        second.booking.request.iin = first.booking.request.iin
        second.booking.request.save()
        assert selectors.protocol_kind_suggestion(second) == Protocol.Kind.REPEAT

    def test_page_prefills_posts_and_names_errors(self, client, service, consultant):
        c = ended(service, consultant)
        url = reverse("consultations:protocol", args=[c.pk])
        client.force_login(consultant)
        r = client.get(url)
        assert r.status_code == 200 and c.booking.request.full_name in r.content.decode()
        assert "Семейные проблемы" in r.content.decode()
        r = client.post(url, {**PROTOCOL, "solution": ""})
        assert r.status_code == 400 and r.context["form"].errors["solution"]
        r = client.post(url, {**PROTOCOL, "child_age": ""})
        assert r.status_code == 302 and Protocol.objects.get().child_age is None

    def test_another_consultant_gets_403(self, client, service, consultant):
        c = ended(service, consultant)
        client.force_login(make_user(Role.CONSULTANT, service=service))
        assert client.get(reverse("consultations:protocol", args=[c.pk])).status_code == 403
        assert client.post(reverse("consultations:no_show", args=[c.pk])).status_code == 403


class TestLimitWarnings:
    def test_room_renders_the_limit_and_the_warning_times(self, client, live, consultant):
        client.force_login(consultant)
        html = client.get(reverse("consultations:consultant_room", args=[live.pk])).content
        assert b'data-max-minutes="60"' in html and b'data-warn-at="50,55"' in html
        service = live.booking.slot.service
        service.max_consultation_minutes = 45
        service.save()
        html = client.get(reverse("consultations:consultant_room", args=[live.pk])).content
        assert b'data-max-minutes="45"' in html and b'data-warn-at="35,40"' in html


class TestJournal:
    @pytest.fixture
    def data(self, service, consultant):
        other = make_user(Role.CONSULTANT, service=service)
        a = ended(service, consultant, starts_in=dt.timedelta(days=-3))
        services.protocol_save(actor=consultant, consultation=a, **PROTOCOL)
        b = ended(service, other, starts_in=dt.timedelta(days=-1))
        b.booking.request.full_name = ""
        b.booking.request.is_anonymous = True
        b.booking.request.save()
        return a, b, other

    def test_columns_and_rows(self, head, data):
        a, _b, _other = data
        rows = [
            selectors.journal_row(n, c)
            for n, c in enumerate(
                selectors.journal_consultations(actor=head, service=a.booking.slot.service), 1
            )
        ]
        assert len(rows) == 2
        assert rows[0][3:10] == [
            "Тестов Арман",
            7,
            a.booking.request.full_name,
            "Первичная",
            "Ребёнок не спит по ночам",
            "1. Семейные проблемы",
            "",
        ]
        assert rows[1][5] == "Анонимно"

    def test_consultant_sees_own_rows_head_and_coordinator_the_service(
        self, client, service, consultant, head, coordinator, data
    ):
        a, b, other = data
        url = reverse("consultations:journal")
        client.force_login(consultant)
        r = client.get(url, {"consultant": other.pk})
        assert [row[5] for row in r.context["rows"]] == [a.booking.request.full_name]
        for user in (head, coordinator):
            client.force_login(user)
            assert len(client.get(url).context["rows"]) == 2
            assert len(client.get(url, {"consultant": other.pk}).context["rows"]) == 1
        client.force_login(make_user(Role.OPERATOR, service=service))
        assert client.get(url).status_code == 403

    def test_date_filters(self, client, head, data):
        a, b, _other = data
        client.force_login(head)
        day_b = b.booking.slot.starts_at.astimezone(b.booking.slot.service.tz).date()
        r = client.get(reverse("consultations:journal"), {"from": day_b.isoformat()})
        assert [row[5] for row in r.context["rows"]] == ["Анонимно"]
        r = client.get(
            reverse("consultations:journal"),
            {"to": (day_b - dt.timedelta(days=1)).isoformat()},
        )
        assert [row[5] for row in r.context["rows"]] == [a.booking.request.full_name]

    def test_xlsx_has_the_regulations_columns_and_the_filtered_rows(self, client, head, data):
        a, _b, other = data
        client.force_login(head)
        r = client.get(reverse("consultations:journal"), {"format": "xlsx", "consultant": other.pk})
        ws = load_workbook(io.BytesIO(r.content)).active
        values = [list(row) for row in ws.iter_rows(values_only=True)]
        assert values[0][0] == "Журнал учета он-лайн консультирования"
        assert values[1] == selectors.JOURNAL_COLUMNS
        assert len(values) == 3 and values[2][5] == "Анонимно"

    def test_reads_are_audited_once_without_personal_data(self, client, head, data):
        a, _b, _other = data
        client.force_login(head)
        client.get(reverse("consultations:journal"))
        client.get(reverse("consultations:journal"), {"format": "xlsx"})
        events = AuditEvent.objects.filter(event_type__startswith="journal.")
        assert sorted(e.event_type for e in events) == ["journal.exported", "journal.viewed"]
        for e in events:
            assert a.booking.request.full_name not in str(e.extra) and e.extra["rows"] == 2

    def test_a_service_the_user_does_not_work_for_is_refused(self, client, head, data):
        client.force_login(head)
        assert client.get(reverse("consultations:journal"), {"service": 99999}).status_code == 403


def test_the_room_shows_the_request_and_earlier_protocols_of_the_same_client(
    client, service, consultant
):
    first = ended(service, consultant, starts_in=dt.timedelta(hours=-3))
    services.protocol_save(actor=consultant, consultation=first, **PROTOCOL)
    stranger = ended(service, consultant, starts_in=dt.timedelta(hours=-2))
    services.protocol_save(
        actor=consultant, consultation=stranger, **{**PROTOCOL, "reason": "Другой клиент"}
    )
    now = make_live_consultation(service, consultant)
    request = now.booking.request
    request.iin, request.reason = first.booking.request.iin, "Снова трудности со сном"
    request.save()
    client.force_login(consultant)
    page = client.get(f"/consultant/room/{now.pk}/").content.decode()
    assert "Снова трудности со сном" in page
    assert PROTOCOL["reason"] in page and "Другой клиент" not in page
    assert AuditEvent.objects.filter(
        event_type="consultation.room_opened", subject_id=str(now.pk)
    ).exists()
