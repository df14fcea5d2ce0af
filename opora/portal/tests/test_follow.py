"""The private page at each state of the request's lifecycle: what the parent reads and may do."""

import datetime as dt
import secrets

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from opora.consultations import services as consultations
from opora.consultations.models import Protocol, Topic
from opora.consultations.tests.factories import make_live_consultation
from opora.core.actors import ClientActor
from opora.core.crypto import blind_index
from opora.intake.models import RefusalGround, ServiceRequest
from opora.intake.services import request_redirect, request_refuse
from opora.scheduling import services as scheduling

pytestmark = pytest.mark.django_db

PROTOCOL = {
    "reason": "Вопрос о сне",
    "topic": Topic.FAMILY,
    "solution": "Режим дня",
    "kind": Protocol.Kind.PRIMARY,
}


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


def _tokened(request: ServiceRequest) -> str:
    token = secrets.token_urlsafe(32)
    ServiceRequest.objects.filter(pk=request.pk).update(
        public_token=token,
        public_token_hash=blind_index("token", token),
        public_code=f"T{request.pk:07d}",
    )
    return token


def _page(client, token: str) -> str:
    response = client.get(reverse("portal:follow", args=[token]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    return response.content.decode()


def _live(district, consultant, **kw):
    c = make_live_consultation(district, consultant, **kw)
    return c, _tokened(c.booking.request)


NO_ACTIONS = ('id="join-link"', 'id="cancel-link"', 'id="reschedule-link"')


def test_new_says_waiting_for_review_and_what_comes_next(client, district):
    from opora.scheduling.tests.factories import make_request

    token = _tokened(make_request(district))
    html = _page(client, token)
    assert 'id="request-status">Ожидает рассмотрения<' in html
    assert 'id="choose-link"' in html  # self-booking: the next step is the parent's
    district.allows_self_booking = False
    district.save()
    html = _page(client, token)
    assert 'id="choose-link"' not in html
    assert "служба свяжется с вами в течение" in html


def test_booked_shows_the_services_clock_and_no_join_before_the_window(
    client, district, district_consultant
):
    c, token = _live(district, district_consultant, starts_in=dt.timedelta(days=2, hours=3))
    html = _page(client, token)
    local = timezone.localtime(c.booking.slot.starts_at, district.tz)
    assert f'id="booking-time">{local:%H:%M}–' in html
    assert "по московскому времени" in html and "Europe/Moscow" not in html
    # The browser's own zone is added by the page's script from the service-zone ISO time.
    assert f'data-starts="{local.isoformat()}"' in html
    assert 'id="join-link"' not in html and 'id="join-later"' in html
    assert 'id="cancel-link"' in html and 'id="reschedule-link"' in html


def test_booked_without_self_booking_gives_the_phone_instead_of_change_and_cancel(
    client, district, district_consultant
):
    district.allows_self_booking = False
    district.save()
    _c, token = _live(district, district_consultant, starts_in=dt.timedelta(days=2))
    html = _page(client, token)
    assert 'id="cancel-link"' not in html and 'id="reschedule-link"' not in html
    assert 'id="change-by-phone"' in html and 'href="tel:+7 834 200 00 00"' in html
    response = client.get(reverse("portal:cancel", args=[token]))
    assert response.status_code == 303


def test_join_button_only_inside_the_window(client, district, district_consultant):
    _c, token = _live(district, district_consultant, starts_in=dt.timedelta(minutes=10))
    html = _page(client, token)
    assert 'id="join-link"' in html and "/c/" in html.split('id="join-link"')[0][-200:]


def test_held_then_done_show_the_consultation_held_without_join_or_cancel(
    client, district, district_consultant
):
    c, token = _live(district, district_consultant)
    consultations.consultation_admit(consultation_id=c.pk, actor=district_consultant)
    consultations.consultation_end(consultation_id=c.pk, actor=district_consultant)
    html = _page(client, token)
    assert 'id="request-status">Консультация проведена<' in html
    assert not any(a in html for a in NO_ACTIONS)
    # Nothing left to cancel, even by the address of the cancel page.
    assert client.post(reverse("portal:cancel", args=[token])).status_code == 303
    assert c.booking.request.bookings.get().status == "active"

    consultations.protocol_save(actor=district_consultant, consultation=c, **PROTOCOL)
    html = _page(client, token)
    assert ServiceRequest.objects.get(pk=c.booking.request_id).status == "done"
    assert 'data-state="done"' in html and "Консультация состоялась" in html
    assert 'id="request-status">Консультация проведена<' in html
    assert not any(a in html for a in NO_ACTIONS)
    assert 'id="again-link"' in html and reverse("portal:book", args=["district"]) in html


def test_no_show_says_why_in_plain_words_and_offers_to_book_again(
    client, district, district_consultant
):
    c, token = _live(district, district_consultant)
    consultations.consultation_mark_no_show(actor=district_consultant, consultation=c)
    html = _page(client, token)
    assert "никто не подключился" in html
    assert not any(a in html for a in NO_ACTIONS)
    assert 'id="again-link"' in html


def test_cancelled_says_so_and_offers_to_book_again(client, district, district_consultant):
    c, token = _live(district, district_consultant, starts_in=dt.timedelta(days=2))
    scheduling.booking_cancel(
        actor=ClientActor(request_id=c.booking.request_id), booking=c.booking, reason="Заболели"
    )
    html = _page(client, token)
    assert "не состоится" in html and "Заболели" in html
    assert not any(a in html for a in NO_ACTIONS)
    assert 'id="again-link"' in html


def test_refused_and_redirected_give_the_reason_and_the_referral(client, district, operator):
    from opora.scheduling.tests.factories import make_request

    refused = make_request(district)
    token = _tokened(refused)
    request_refuse(
        actor=operator,
        request=refused,
        ground=RefusalGround.OUT_OF_COMPETENCE,
        note="Обратитесь в центр занятости: 8 800 000 00 00",
    )
    html = _page(client, token)
    assert 'id="request-status">Отказано<' in html or 'data-state="refused"' in html
    assert "центр занятости" in html
    redirected = make_request(district)
    token = _tokened(redirected)
    request_redirect(actor=operator, request=redirected, referral_text="Отдел образования, каб. 5")
    html = _page(client, token)
    assert "Отдел образования, каб. 5" in html


def test_share_button_and_selectable_link(client, district):
    from opora.scheduling.tests.factories import make_request

    token = _tokened(make_request(district))
    html = _page(client, token)
    link = "http://testserver" + reverse("portal:follow", args=[token])
    # Without JavaScript: the link is plain text to select; the button is shown by the script.
    assert f'id="private-link">{link}</a>' in html
    assert 'id="share-link" hidden' in html and f'data-url="{link}"' in html
    assert 'aria-live="polite"' in html and 'data-copied="Ссылка скопирована"' in html


def test_technical_failure_without_a_new_time_says_so_and_offers_a_new_time(
    client, district, district_consultant
):
    from opora.consultations.models import TechnicalFailure

    c, token = _live(district, district_consultant)
    consultations.technical_failure_report(
        actor=district_consultant, consultation=c, cause=TechnicalFailure.Cause.EQUIPMENT
    )
    html = _page(client, token)
    assert 'id="request-status">Ожидает нового времени<' in html
    assert "по техническим причинам" in html
    assert 'id="join-link"' not in html and 'id="cancel-link"' not in html
    # Self-booking: the parent may pick the new time; the failed booking is moved, not doubled.
    assert 'id="choose-link"' in html
