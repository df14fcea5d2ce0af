"""Events in the browser, on a 360-px phone: a parent registers from the service's portal page
with real taps and follows the stored confirmation's link; the certificate's code is confirmed by
/verify/; with Janus running, a presenter and three participants meet in the group room."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from opora.events import services
from opora.events.models import Attendance, Event, EventPolicy, RoomMessage
from opora.notifications.models import Notification

from .conftest import e2e_db

pytestmark = e2e_db

PHONE = {"viewport": {"width": 360, "height": 780}, "has_touch": True, "is_mobile": True}


@pytest.fixture
def phone_context(browser, live_server):
    contexts = []

    def open_page():
        context = browser.new_context(base_url=live_server.url, locale="ru-RU", **PHONE)
        context.grant_permissions(["camera", "microphone"])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


def fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def make_webinar(service, lead, *, starts_in=dt.timedelta(days=2), capacity=20) -> Event:
    return services.event_create(
        actor=lead,
        service=service,
        kind=Event.Kind.WEBINAR,
        title_ru="Как говорить с подростком",
        starts_at=timezone.now() + starts_in,
        duration_minutes=60,
        capacity=capacity,
        lead=lead,
    )


def test_parent_registers_from_the_portal_and_follows_the_confirmation(
    phone_context, axe_check, settings, live_server, service, consultant
):
    settings.OPORA_PUBLIC_URL = live_server.url
    event = make_webinar(service, consultant)
    page = phone_context()
    page.goto(f"/s/{service.code}/")
    expect(page.locator("#events")).to_contain_text("Как говорить с подростком")
    fits(page)
    axe_check(page, where="service page with coming events")
    page.locator(f"#event-register-{event.pk}").click()
    expect(page.locator("h1")).to_have_text("Как говорить с подростком")
    fits(page)
    axe_check(page, where="registration form")
    page.locator("#id_phone").fill("+7 701 555 44 33")
    page.locator("#id_full_name").fill("Тестова Дана")
    page.locator("#id_email").fill("dana@example.org")
    page.locator("#id_announcements_opt_in").click()
    page.locator("#register-button").click()
    expect(page.locator("#status-confirmed")).to_be_visible()
    fits(page)
    axe_check(page, where="private link page")

    mail = Notification.objects.get(channel="email", kind="event_registered")
    assert mail.attachments.get().filename == "event.ics"
    link = re.search(r"https?://\S+/e/[-\w]+/", mail.body).group(0)
    other = phone_context()
    other.goto(link)  # what a tap on the link in the letter does
    expect(other.locator("#status-confirmed")).to_be_visible()
    expect(other.locator("#join-link")).to_be_visible()
    other.locator("#join-link").click()
    # Without Janus configured the room says so plainly; with it, the room opens.
    expect(other.locator("#room-unavailable, #room")).to_be_visible()
    fits(other)
    axe_check(other, where="event room")


def test_certificate_pdf_and_verify_on_a_phone(
    phone_context, axe_check, live_server, service, consultant
):
    event = make_webinar(service, consultant, starts_in=dt.timedelta(minutes=1))
    registration = services.registration_create(
        actor=None, event=event, full_name="Сейтқалиева Әйгерім", phone="+77015554433"
    ).registration
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - dt.timedelta(hours=2))
    event.refresh_from_db()
    Attendance.objects.create(
        event=event, registration=registration, joined_at=event.starts_at, left_at=event.ends_at
    )
    [certificate] = services.certificates_issue(actor=consultant, event=event)
    page = phone_context()
    page.goto(f"/e/{registration.token}/")
    with page.expect_download() as download:
        page.locator("#certificate-link").click()
    pdf = PdfReader(io.BytesIO(open(download.value.path(), "rb").read()))
    text = "".join(p.extract_text() for p in pdf.pages)
    assert "Сейтқалиева Әйгерім" in text
    code = re.search(r"[2-9A-HJ-NP-Z]{16}", text).group(0)
    assert code == certificate.code
    page.goto(f"/verify/{code}/")
    expect(page.locator("#verified")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Сейтқалиева Әйгерім")
    fits(page)
    axe_check(page, where="verify page")
    page.goto("/verify/AAAAAAAAAAAAAAAA/")
    expect(page.locator("#not-found")).to_be_visible()
    axe_check(page, where="verify page, unknown code")


JANUS = shutil.which("janus") or ("/usr/bin/janus" if os.path.exists("/usr/bin/janus") else None)


@pytest.fixture
def janus_server(tmp_path, monkeypatch):
    """A throwaway Janus (scripts/janus.sh's configuration) on a free loopback port."""
    import secrets
    import socket
    import subprocess
    import urllib.request

    if os.environ.get("OPORA_JANUS_URL"):
        yield os.environ["OPORA_JANUS_URL"]
        return
    if JANUS is None:
        pytest.skip("the janus binary is absent (apt-get install janus; make test installs it)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    secret = secrets.token_hex(16)
    env = {
        **os.environ,
        "OPORA_JANUS_ADMIN_SECRET": secret,
        "OPORA_JANUS_HTTP_PORT": str(port),
        "OPORA_JANUS_HTTP_INTERFACE": "lo",
    }
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run([f"{root}/scripts/janus.sh", "render", str(tmp_path)], check=True, env=env)  # noqa: S603
    process = subprocess.Popen(  # noqa: S603
        [JANUS, "-F", str(tmp_path), "-L", str(tmp_path / "janus.log"), "--disable-colors"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/janus"
    for _ in range(50):
        try:
            urllib.request.urlopen(url + "/info", timeout=1)  # noqa: S310
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("janus did not start: " + (tmp_path / "janus.log").read_text()[-2000:])
    monkeypatch.setenv("OPORA_JANUS_URL", url)
    monkeypatch.setenv("OPORA_JANUS_ADMIN_SECRET", secret)
    yield url
    process.terminate()
    process.wait(timeout=10)


STATS = """async (which) => {
  const room = window.oporaGroupRoom;
  if (!room) return -1;
  const pcs = which === null ? room.pcs : (room.subs[which] ? [room.subs[which].pc] : []);
  let frames = 0, packets = 0;
  for (const pc of pcs) {
    (await pc.getStats()).forEach((r) => {
      if (r.type !== "inbound-rtp") return;
      if (r.kind === "video") frames += r.framesDecoded || 0;
      if (r.kind === "audio") packets += r.packetsReceived || 0;
    });
  }
  return {frames, packets};
}"""


def wait_growing(page, key: str, *, feed=None, timeout: float = 30) -> int:
    first = page.evaluate(STATS, feed)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = page.evaluate(STATS, feed)
        if isinstance(first, dict) and first[key] > 0 and now[key] > first[key] + 5:
            return now[key]
        first = first if isinstance(first, dict) and first[key] > 0 else now
    pytest.fail(f"{key} did not grow on {page.url} (feed {feed}): {first} -> {now}")


def test_presenter_and_three_participants_on_janus(
    janus_server, phone_context, axe_check, service, consultant
):
    from .conftest import login

    event = services.event_create(
        actor=consultant,
        service=service,
        kind=Event.Kind.GROUP,
        title_ru="Группа поддержки родителей",
        starts_at=timezone.now() - dt.timedelta(minutes=5),
        duration_minutes=90,
        capacity=10,
        lead=consultant,
    )
    EventPolicy.objects.create(service=service)
    registrations = [
        services.registration_create(
            actor=consultant, event=event, full_name=f"Участник {i}", phone=f"+7701555440{i}"
        ).registration
        for i in range(3)
    ]
    lead = phone_context()
    login(lead, consultant.username)
    lead.goto(f"/staff/events/{event.pk}/room/")
    expect(lead.locator("#room")).to_have_attribute("data-connected", "1", timeout=30_000)
    fits(lead)
    axe_check(lead, where="group room (lead)")

    pages = []
    for registration in registrations:
        page = phone_context()
        page.goto(f"/e/{registration.token}/room/?event={event.pk}")
        expect(page.locator("#room")).to_have_attribute("data-connected", "1", timeout=30_000)
        pages.append(page)
    for page in pages:
        wait_growing(page, "frames")  # each participant decodes the presenter's video
    fits(pages[0])
    axe_check(pages[0], where="group room (participant)")

    speaker, *listeners = pages
    speaker.locator("#hand-button").click()
    expect(lead.locator("#hands .hand")).to_have_count(1, timeout=15_000)
    feed = speaker.evaluate("window.oporaGroupRoom.myId")
    # Janus knows the speaker by the feed id the server derived from their link (the hand is
    # bound to it server-side): a page cannot raise a hand for another feed.
    from opora.events.janus import participant_feed

    assert feed == participant_feed(event, f"r{registrations[0].pk}")
    forged = listeners[0].evaluate(
        """async (f) => (await fetch(window.location.pathname.replace('/room/', '/messages/'), {
             method: 'POST', credentials: 'same-origin',
             headers: {'Content-Type': 'application/json',
                       'X-CSRFToken': (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || ''},
             body: JSON.stringify({kind: 'hand', feed: f, mid: '0'})})).json()""",
        feed,
    )
    assert forged["error"]  # the server's refusal (JSON), not the CSRF page
    assert not RoomMessage.objects.filter(registration=registrations[1]).exists()
    for page in listeners:
        page.wait_for_function(
            "(f) => window.oporaGroupRoom.subs[f] !== undefined", arg=feed, timeout=15_000
        )
    # Muted by Janus until the lead allows: nothing of the speaker reaches the others.
    before = [p.evaluate(STATS, feed)["packets"] for p in listeners]
    time.sleep(2)
    after = [p.evaluate(STATS, feed)["packets"] for p in listeners]
    assert all(b2 - b1 <= 3 for b1, b2 in zip(before, after, strict=True)), (before, after)
    lead.locator("#hands .hand button[data-action='unmute']").click()
    for page in listeners:
        wait_growing(page, "packets", feed=feed)  # the others hear the speaker

    for page in pages:
        page.locator("#leave-button").click()
    stays = Attendance.objects.filter(event=event)
    assert {a.registration_id for a in stays if a.registration_id} == {r.pk for r in registrations}
    assert stays.filter(user=consultant).exists()
    for registration in registrations:
        expect_left = Attendance.objects.filter(registration=registration, left_at__isnull=False)
        for _ in range(20):
            if expect_left.exists():
                break
            time.sleep(0.25)
        assert expect_left.exists(), registration.full_name

    # The registry of regulation 002 Appendix 3 lists them, with the times on the lead's page.
    from opora.events.selectors import participants_rows

    day = timezone.localtime(event.starts_at, service.tz).date()
    rows = list(participants_rows(service, day, day))
    assert sorted(r["full_name"] for r in rows) == ["Участник 0", "Участник 1", "Участник 2"]
    lead.goto(f"/staff/events/{event.pk}/")
    for registration in registrations:
        expect(lead.locator("#participants")).to_contain_text(registration.full_name)
    axe_check(lead, where="the event's staff page")


def test_janus_refuses_a_join_without_oporas_token(janus_server, service, consultant):
    """The room's token list is Janus's: a browser that skips the page gets no feed."""
    import json
    import urllib.request

    from opora.events import janus

    event = make_webinar(service, consultant)
    janus.room_ensure(event, [janus.participant_token(event, "r1")])

    def call(path, body):
        request = urllib.request.Request(  # noqa: S310 (the loopback Janus)
            janus_server + path,
            data=json.dumps({"transaction": "t", **body}).encode(),
            headers={"Content-Type": "application/json"},
        )
        return json.loads(urllib.request.urlopen(request, timeout=5).read())  # noqa: S310

    session = call("", {"janus": "create"})["data"]["id"]
    handle = call(f"/{session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"})
    handle = handle["data"]["id"]
    join = {"request": "join", "ptype": "publisher", "room": event.room_id, "token": "forged"}
    call(f"/{session}/{handle}", {"janus": "message", "body": join})
    answer = json.loads(
        urllib.request.urlopen(f"{janus_server}/{session}?maxev=1", timeout=35).read()  # noqa: S310
    )
    answer = answer[0] if isinstance(answer, list) else answer
    data = answer["plugindata"]["data"]
    assert data.get("error_code") == 433, data  # JANUS_VIDEOROOM_ERROR_UNAUTHORIZED
