"""Staff of several services: the journal, the recordings and the consultant's room and protocol
work in the service the user chose (`accounts.workplace`, the same choice as the staff screens);
opening a consultation or a recording of another of their services switches to it, audited."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from opora.accounts.models import Role
from opora.accounts.services import SERVICE_CHOSEN
from opora.consultations import services
from opora.consultations.models import Consultation, Protocol, Topic
from opora.consultations.tests.factories import make_live_consultation
from opora.core.models import AuditEvent
from opora.demo.factories import make_district_service, make_user
from opora.web.selectors import SESSION_SERVICE_KEY

pytestmark = pytest.mark.django_db

PROTOCOL = {
    "reason": "Ребёнок не спит по ночам",
    "topic": Topic.FAMILY,
    "solution": "Режим дня",
    "kind": Protocol.Kind.PRIMARY,
}


@pytest.fixture(autouse=True)
def _recordings(settings, tmp_path):
    settings.OPORA_RECORDING_ROOT = str(tmp_path / "recordings")


@pytest.fixture
def district(service):
    return make_district_service(code="mordovia", name="Районная служба Саранска")


@pytest.fixture
def both(service, district, consultant):
    """The consultant works for the 1411 service and the district service."""
    consultant.services.add(district)
    return consultant


def _ended(service, consultant, **kw) -> Consultation:
    c = make_live_consultation(service, consultant, **kw)
    services.consultation_admit(consultation_id=c.pk, actor=consultant)
    return services.consultation_end(consultation_id=c.pk, actor=consultant)


def _switch(client, service) -> None:
    response = client.post(reverse("service_switch"), {"service": service.pk, "next": "/"})
    assert response.status_code == 303


def _switched_by_record(user) -> list[dict]:
    return [
        e.extra
        for e in AuditEvent.objects.filter(event_type=SERVICE_CHOSEN, subject_id=str(user.pk))
        if e.extra["via"] == "record"
    ]


def _notices(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_room_of_a_consultation_of_another_service_switches_to_it(
    client, service, district, both
):
    c = make_live_consultation(district, both)
    client.force_login(both)
    _switch(client, service)
    response = client.get(reverse("consultations:consultant_room", args=[c.pk]))
    assert response.status_code == 200
    assert client.session[SESSION_SERVICE_KEY] == district.pk
    both.refresh_from_db()
    assert both.current_service == district
    assert _switched_by_record(both) == [
        {"service_id": district.pk, "previous_service_id": service.pk, "via": "record"}
    ]
    assert _notices(response) == [
        "Эта консультация относится к службе «Районная служба Саранска»: теперь вы работаете в ней."
    ]
    # The header says so.
    assert f'<option value="{district.pk}" selected>' in response.content.decode()


def test_the_protocol_page_switches_too(client, service, district, both):
    c = _ended(district, both)
    client.force_login(both)
    _switch(client, service)
    response = client.get(reverse("consultations:protocol", args=[c.pk]))
    assert response.status_code == 200
    assert client.session[SESSION_SERVICE_KEY] == district.pk
    # Saving it does not switch again.
    response = client.post(
        reverse("consultations:protocol", args=[c.pk]),
        {**PROTOCOL, "child_age": "", "next_consultation": ""},
    )
    assert response.status_code == 302, response.content
    assert len(_switched_by_record(both)) == 1


def test_a_consultation_of_a_service_not_theirs_neither_opens_nor_switches(
    client, service, district, consultant
):
    other = make_user(Role.CONSULTANT, service=district)
    c = make_live_consultation(district, other)
    client.force_login(consultant)
    response = client.get(reverse("consultations:consultant_room", args=[c.pk]))
    assert response.status_code == 403
    assert client.session.get(SESSION_SERVICE_KEY) in (None, service.pk)
    consultant.refresh_from_db()
    assert consultant.current_service_id in (None, service.pk)
    assert not _switched_by_record(consultant)


@pytest.fixture
def head_of_both(service, district):
    head = make_user(Role.HEAD, service=service)
    head.services.add(district)
    return head


def test_the_journal_is_of_the_chosen_service(client, service, district, both, head_of_both):
    here = _ended(service, both, starts_in=dt.timedelta(hours=-3))
    there = _ended(district, both, starts_in=dt.timedelta(hours=-2))
    for c in (here, there):
        services.protocol_save(actor=both, consultation=c, **PROTOCOL)
    url = reverse("consultations:journal")
    for user in (head_of_both, both):
        client.force_login(user)
        _switch(client, district)
        response = client.get(url)
        assert response.status_code == 200
        assert response.context["room_service"] == district
        assert [row[5] for row in response.context["rows"]] == [there.booking.request.full_name]
        # The list's own service filter switches, like the header's.
        response = client.get(url, {"service": service.pk})
        assert response.context["room_service"] == service
        assert [row[5] for row in response.context["rows"]] == [here.booking.request.full_name]
        assert client.session[SESSION_SERVICE_KEY] == service.pk
        assert client.get(url, {"service": 99999}).status_code == 403


def test_recordings_of_the_chosen_service_and_a_recording_of_another_switches(
    client, service, district, consultant, head_of_both
):
    live = make_live_consultation(service, consultant)
    services.consultation_admit(consultation_id=live.pk, actor=consultant)
    services.consultation_record_notice(
        consultation=Consultation.objects.select_related("booking__slot__service").get(pk=live.pk)
    )
    recording = services.recording_start(
        actor=consultant,
        consultation=Consultation.objects.select_related("booking__slot__service").get(pk=live.pk),
        mime_type="video/webm",
    )
    client.force_login(head_of_both)
    _switch(client, district)
    page = client.get(reverse("consultations:recordings"))
    assert page.status_code == 200 and page.context["room_service"] == district
    assert list(page.context["recordings"]) == []
    page = client.get(reverse("consultations:recording_detail", args=[recording.pk]))
    assert page.status_code == 200
    assert client.session[SESSION_SERVICE_KEY] == service.pk
    assert _notices(page) == [
        "Эта запись консультации относится к службе «Служба онлайн поддержки 1411»: "
        "теперь вы работаете в ней."
    ]
    page = client.get(reverse("consultations:recordings"))
    assert [r.pk for r in page.context["recordings"]] == [recording.pk]
