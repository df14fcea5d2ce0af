"""The room on a phone: a client on a 360×780 touch screen, the consultant at a 1280-px desk.

The client taps through the entry page, the device check and «Перейти в зал ожидания» with real
clicks; both sides decode the other's video; the chat drawer counts the unread line; the client
answers with a real tap on «Отправить», toggles microphone and camera, opens the help with sound or
picture and turns the phone sideways. At every step nothing is wider than the screen and the point
at the centre of each control is the control itself (nothing lies over it); axe-core finds nothing.
"""

import datetime as dt
import time

import pytest
from playwright.sync_api import expect

from e2e import test_room
from e2e.conftest import e2e_db, login

asgi_server = test_room.asgi_server
wait_frames_growing = test_room.wait_frames_growing

pytestmark = e2e_db

PHONE = {"viewport": {"width": 360, "height": 780}, "has_touch": True, "is_mobile": True}
DESK = {"viewport": {"width": 1280, "height": 800}}
CLIENT_CONTROLS = ["#mute-button", "#camera-button", "#chat-toggle", "#leave-button"]

HIT = """(sel) => {
  const el = document.querySelector(sel);
  const r = el.getBoundingClientRect();
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  const hit = document.elementFromPoint(x, y);
  return {ok: !!hit && (hit === el || el.contains(hit)),
          hit: hit ? (hit.id || hit.tagName) : null, w: r.width, h: r.height};
}"""

PLAYS = """(id) => {
  const v = document.getElementById(id);
  return !!v.srcObject && !v.paused && v.videoWidth > 0 && v.readyState >= 2;
}"""


@pytest.fixture
def open_ctx(browser, asgi_server):
    expect.set_options(timeout=15_000)
    contexts = []

    def open_(**options):
        context = browser.new_context(base_url=asgi_server, locale="ru-RU", **options)
        context.grant_permissions(["camera", "microphone"])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield open_
    for context in contexts:
        context.close()


def fits(page, where: str) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], (
        f"{where}: the page is {width[0]} px wide on a {width[1]}-px screen"
    )


def reachable(page, selectors, where: str) -> None:
    """Each control is on top at its centre (a tap lands on it) and at least 44×44 px."""
    for sel in selectors:
        page.locator(sel).scroll_into_view_if_needed()
        got = page.evaluate(HIT, sel)
        assert got["ok"], f"{where}: the centre of {sel} is covered by {got['hit']}"
        assert got["w"] >= 44 and got["h"] >= 44, f"{where}: {sel} is {got['w']}×{got['h']} px"


def test_client_on_a_phone_consultant_at_a_desk(open_ctx, service, consultant, axe_check):
    from opora.consultations.tests.factories import make_live_consultation

    room = make_live_consultation(service, consultant)  # 1411: recorded with notice

    doc = open_ctx(**DESK)
    login(doc, consultant.username)
    doc.goto(f"/consultant/room/{room.pk}/")
    expect(doc.locator("#room-status")).to_contain_text("Клиент ещё не подключился")

    cli = open_ctx(**PHONE)
    cli.goto(f"/c/{room.client_token}/")
    expect(cli.locator("#recording-notice")).to_be_visible()
    fits(cli, "entry page")
    reachable(cli, ["#continue-button"], "entry page")
    axe_check(cli, where="entry page at 360 px")
    cli.get_by_role("button", name="Продолжить").click()

    expect(cli.locator("#check-status")).to_contain_text("работают")
    expect(cli.locator("#speed-result")).to_have_attribute("data-verdict", "video")
    fits(cli, "device check")
    reachable(cli, ["#speaker-test", "#enter-room"], "device check")
    axe_check(cli, where="device check at 360 px")
    cli.get_by_role("link", name="Перейти в зал ожидания").click()

    expect(cli.locator("#room-status")).to_contain_text("Подождите")
    fits(cli, "waiting room")
    reachable(cli, CLIENT_CONTROLS + ["#problem-button"], "waiting room")
    axe_check(cli, where="waiting room at 360 px")

    expect(doc.locator("#admit-button")).to_be_enabled()
    doc.get_by_role("button", name="Впустить").click()
    wait_frames_growing(doc)
    wait_frames_growing(cli)
    # Both pictures play on both sides (the self-views once stood still: an empty self-view).
    for page in (doc, cli):
        for video in ("local-video", "remote-video"):
            page.wait_for_function(PLAYS, arg=video)
    fits(cli, "room in the call")
    # Upright, the control bar is on the first screen (in reach of the thumb, no scrolling).
    cli.evaluate("window.scrollTo(0, 0)")
    bar = cli.evaluate("document.getElementById('room-bar').getBoundingClientRect().bottom")
    assert bar <= 780, f"the control bar ends at {bar} px, below the 780-px screen"
    fits(doc, "consultant's room")
    reachable(cli, CLIENT_CONTROLS + ["#problem-button"], "room in the call")
    reachable(doc, ["#mute-button", "#camera-button", "#end-button", "#chat-send"], "desk")
    # The desk shows the request and the chat beside the video.
    side = doc.locator("#room-side").bounding_box()
    stage = doc.locator("#room-media").bounding_box()
    assert side["x"] >= stage["x"] + stage["width"], "the side panel is not beside the video"
    expect(doc.locator("#request-facts")).to_be_visible()
    expect(doc.locator("#chat-log")).to_be_visible()
    expect(doc.locator("#recording-indicator")).to_be_visible()
    expect(cli.locator("#recording-indicator")).to_be_visible()
    axe_check(cli, where="client room in the call at 360 px")
    axe_check(doc, where="consultant room at 1280 px")

    # The consultant writes; the phone counts the unread line on the chat button.
    expect(cli.locator("#chat-log")).to_be_hidden()
    doc.get_by_label("Сообщение").fill("Здравствуйте, я вас слышу")
    doc.get_by_role("button", name="Отправить", exact=True).click()
    expect(cli.locator("#chat-unread")).to_be_visible()
    expect(cli.locator("#chat-unread-count")).to_have_text("1")
    cli.locator("#chat-toggle").click()
    expect(cli.locator("#chat-log")).to_contain_text("Здравствуйте, я вас слышу")
    expect(cli.locator("#chat-unread")).to_be_hidden()
    fits(cli, "chat drawer")
    reachable(cli, ["#chat-send", "#chat-close", "#file-send"], "chat drawer")
    axe_check(cli, where="chat drawer at 360 px")
    cli.get_by_label("Сообщение").fill("Спасибо, мне тоже слышно")
    cli.get_by_role("button", name="Отправить", exact=True).click()
    expect(doc.locator("#chat-log")).to_contain_text("Спасибо, мне тоже слышно")
    cli.get_by_role("button", name="Закрыть чат").click()
    expect(cli.locator("#chat-log")).to_be_hidden()

    # Microphone and camera: pressed means off, and the tracks follow.
    cli.locator("#mute-button").click()
    expect(cli.locator("#mute-button")).to_have_attribute("aria-pressed", "true")
    assert cli.evaluate("oporaRoom.state.audio.enabled") is False
    cli.locator("#camera-button").click()
    expect(cli.locator("#camera-button")).to_have_attribute("aria-pressed", "true")
    assert cli.evaluate("oporaRoom.state.video.enabled") is False
    expect(cli.locator("#room-self")).to_be_hidden()
    fits(cli, "microphone and camera off")
    reachable(cli, CLIENT_CONTROLS, "microphone and camera off")
    cli.locator("#mute-button").click()
    cli.locator("#camera-button").click()
    expect(cli.locator("#camera-button")).to_have_attribute("aria-pressed", "false")
    assert cli.evaluate("oporaRoom.state.audio.enabled && oporaRoom.state.video.enabled")
    expect(cli.locator("#room-self")).to_be_visible()

    # Help with sound or picture: what to try, and the switch to voice or chat.
    cli.get_by_role("button", name="Проблема со звуком или изображением").click()
    help_ = cli.get_by_role("dialog", name="Проблема со звуком или изображением")
    expect(help_).to_be_visible()
    expect(help_).to_contain_text("Обновите страницу")
    fits(cli, "help")
    reachable(cli, ["#help-close", "#reload-button", "#mode-voice", "#mode-chat"], "help")
    axe_check(cli, where="help at 360 px")
    help_.get_by_role("button", name="Закрыть").click()
    expect(help_).to_be_hidden()

    # Turned sideways: still nothing wider than the screen, every control on top.
    cli.set_viewport_size({"width": 780, "height": 360})
    cli.wait_for_function(
        "() => document.getElementById('room').dataset.orientation === 'landscape'"
    )
    time.sleep(0.3)  # layout after the resize
    fits(cli, "landscape")
    reachable(cli, CLIENT_CONTROLS + ["#problem-button"], "landscape")
    wait_frames_growing(cli)
    axe_check(cli, where="client room in landscape")
    cli.set_viewport_size({"width": 360, "height": 780})
    cli.wait_for_function(
        "() => document.getElementById('room').dataset.orientation === 'portrait'"
    )
    fits(cli, "portrait again")

    # The consultant's room on a phone (called away from the desk) fits too.
    doc.set_viewport_size({"width": 360, "height": 780})
    fits(doc, "consultant's room at 360 px")
    reachable(doc, ["#mute-button", "#camera-button", "#chat-toggle", "#end-button"], "desk at 360")
    doc.set_viewport_size({"width": 1280, "height": 800})

    doc.once("dialog", lambda d: d.accept())
    doc.get_by_role("button", name="Завершить консультацию").click()
    expect(cli.locator("#room-status")).to_contain_text("завершена")
    # The recording badge goes with the call on both sides.
    expect(cli.locator("#recording-indicator")).to_be_hidden()
    expect(doc.locator("#recording-indicator")).to_be_hidden()


# A phone that refuses to start sound before a tap on the page itself (Chrome lets a page that
# uses the camera play sound, so headless Chromium never refuses: the refusal is played here).
REFUSE_SOUND = """(() => {
  const play = HTMLMediaElement.prototype.play;
  let tapped = false;
  addEventListener("click", () => { tapped = true; }, true);
  HTMLMediaElement.prototype.play = function () {
    if (this.id === "remote-video" && !tapped) {
      return Promise.reject(new DOMException("play() needs a tap", "NotAllowedError"));
    }
    return play.call(this);
  };
})();"""


def test_the_client_leaves_and_comes_back(open_ctx, service, consultant):
    from opora.consultations.tests.factories import make_live_consultation

    room = make_live_consultation(service, consultant)
    doc = open_ctx(**DESK)
    login(doc, consultant.username)
    doc.goto(f"/consultant/room/{room.pk}/")
    expect(doc.locator("#room-status")).to_contain_text("Клиент ещё не подключился")
    cli = open_ctx(**PHONE)
    cli.goto(f"/c/{room.client_token}/")
    cli.get_by_role("button", name="Продолжить").click()
    cli.get_by_role("link", name="Перейти в зал ожидания").click()
    expect(cli.locator("#room-status")).to_contain_text("Подождите")
    doc.get_by_role("button", name="Впустить").click()
    wait_frames_growing(cli)

    cli.get_by_role("button", name="Выйти").click()
    expect(cli.locator("#room-left")).to_be_visible()
    expect(doc.locator("#room-alert")).to_contain_text("вышел")
    fits(cli, "after leaving")
    reachable(cli, ["#rejoin-button"], "after leaving")
    cli.get_by_role("button", name="Вернуться на консультацию").click()
    wait_frames_growing(doc)
    wait_frames_growing(cli)

    # Opened again on a phone that refuses to start the sound before a tap on the page: one
    # button on the picture starts it.
    cli.context.add_init_script(REFUSE_SOUND)
    cli.reload()
    wait_frames_growing(cli)
    expect(cli.locator("#play-button")).to_be_visible()
    fits(cli, "sound waiting for a tap")
    reachable(cli, ["#play-button"] + CLIENT_CONTROLS, "sound waiting for a tap")
    cli.get_by_role("button", name="Включить звук и изображение").click()
    cli.wait_for_function(PLAYS, arg="remote-video")
    expect(cli.locator("#play-button")).to_be_hidden()


def test_the_join_page_of_a_district_booking_shows_moscow_time(open_ctx, axe_check, settings):
    from opora.accounts.models import Role
    from opora.consultations.services import consultation_for_booking
    from opora.demo.factories import make_district_service, make_user
    from opora.scheduling.calendar import local_now
    from opora.scheduling.models import Booking
    from opora.scheduling.tests.factories import approved_schedule, make_request, make_slot

    settings.TIME_ZONE = "Asia/Almaty"  # the server's zone, two hours ahead of Moscow
    district = make_district_service()
    consultant = make_user(Role.CONSULTANT, service=district)
    day = local_now(district).date() + dt.timedelta(days=7)
    approved_schedule(district, consultant, day)
    slot = make_slot(district, consultant, day, dt.time(11), is_booked=True)
    request = make_request(
        district, full_name="", iin="", is_anonymous=True, typical_question="education"
    )
    consultation = consultation_for_booking(
        booking=Booking.objects.create(slot=slot, request=request)
    )

    # The parent's phone is set to Almaty's clock: the service's time first, theirs labelled.
    cli = open_ctx(**PHONE, timezone_id="Asia/Almaty")
    cli.goto(f"/c/{consultation.client_token}/")
    when = cli.locator("#entry-when")
    expect(when).to_contain_text("11:00–12:00 (московское время, UTC+3)")
    expect(cli.locator("#entry-yourtime")).to_contain_text("По часам этого устройства:")
    expect(cli.locator("#entry-yourtime")).to_contain_text("13:00–14:00")
    expect(cli.locator("#entry-topic")).to_contain_text("Образование")
    fits(cli, "district join page")
    reachable(cli, ["#continue-button"], "district join page")
    axe_check(cli, where="district join page at 360 px")
    cli.get_by_label("Да, записывать можно").click()
    cli.get_by_role("button", name="Продолжить").click()
    expect(cli.locator("#check-when")).to_contain_text("в 11:00 (московское время, UTC+3)")
    expect(cli.locator("#check-yourtime")).to_contain_text("13:00–14:00")
    expect(cli.locator("#room-opens")).to_contain_text("11:00")
    fits(cli, "district device check")


@pytest.mark.parametrize(
    ("locale", "cont", "enter"),
    [("kk", "Жалғастыру", None), ("en", "Continue", "Enter the waiting room")],
)
def test_the_client_pages_in_kazakh_and_english(
    open_ctx, asgi_server, service, consultant, axe_check, locale, cont, enter
):
    from opora.consultations.tests.factories import make_live_consultation

    room = make_live_consultation(service, consultant)
    cli = open_ctx(**PHONE)
    cli.context.add_cookies([{"name": "django_language", "value": locale, "url": asgi_server}])
    cli.goto(f"/c/{room.client_token}/")
    expect(cli.locator("#continue-button")).to_have_text(cont)
    fits(cli, f"entry page {locale}")
    axe_check(cli, where=f"entry page {locale}")
    cli.locator("#continue-button").click()
    expect(cli.locator("#enter-room")).to_be_visible()
    if enter:
        expect(cli.locator("#enter-room")).to_have_text(enter)
    fits(cli, f"device check {locale}")
    axe_check(cli, where=f"device check {locale}")
    cli.locator("#enter-room").click()
    expect(cli.locator("#room-bar")).to_be_visible()
    fits(cli, f"waiting room {locale}")
    reachable(cli, CLIENT_CONTROLS + ["#problem-button"], f"waiting room {locale}")
    axe_check(cli, where=f"waiting room {locale}")
    cli.locator("#problem-button").click()
    fits(cli, f"help {locale}")
    reachable(cli, ["#help-close", "#mode-voice"], f"help {locale}")
