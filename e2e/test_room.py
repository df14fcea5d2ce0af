"""The consultation room in two browsers: consultant and client, WebRTC video both ways, chat, voice only.

pytest-django's live server speaks WSGI only; the room needs WebSockets, so this module serves
`opora.asgi` with uvicorn in a thread of the test process (same test database, in-memory channel
layer in that thread's event loop).
"""

import socket
import threading
import time

import pytest
from playwright.sync_api import expect

from e2e.conftest import e2e_db, login

pytestmark = e2e_db


@pytest.fixture
def asgi_server(transactional_db):
    import uvicorn
    from channels.routing import ProtocolTypeRouter
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.db import connections

    from opora import asgi

    # Connections opened in the server's threads close after each use, so none is left holding the
    # test database when pytest drops it.
    db_settings = connections.settings["default"]
    saved_max_age = db_settings.get("CONN_MAX_AGE", 0)
    db_settings["CONN_MAX_AGE"] = 0
    app = ProtocolTypeRouter(
        {
            "http": ASGIStaticFilesHandler(asgi.django_asgi_app),
            "websocket": asgi.application.application_mapping["websocket"],
        }
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    db_settings["CONN_MAX_AGE"] = saved_max_age
    # Session reads of the ASGI stack can leave idle connections in executor threads this test
    # cannot reach; end them so that pytest can drop the PostgreSQL test database.
    if connections["default"].vendor == "postgresql":
        with connections["default"].cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture
def open_page(browser, asgi_server):
    expect.set_options(timeout=15_000)
    contexts = []

    def open_():
        context = browser.new_context(base_url=asgi_server, locale="ru-RU")
        context.grant_permissions(["camera", "microphone"])
        contexts.append(context)
        p = context.new_page()
        p.set_default_timeout(15_000)
        return p

    yield open_
    for context in contexts:
        context.close()


FRAMES = """async () => {
  const pc = window.oporaRoom && window.oporaRoom.pc;
  if (!pc) return -1;
  let n = -1;
  (await pc.getStats()).forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "video") n = Math.max(n, r.framesDecoded || 0);
  });
  return n;
}"""


def frames(page) -> int:
    return page.evaluate(FRAMES)


def wait_frames_growing(page, *, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    first = None
    while time.monotonic() < deadline:
        n = frames(page)
        if n > 0 and first is None:
            first = n
        elif first is not None and n > first + 5:
            return
        time.sleep(0.3)
    pytest.fail(f"remote video frames did not grow on {page.url}: {first} -> {frames(page)}")


def test_consultant_and_client_talk_and_chat(open_page, service, consultant, axe_check):
    from opora.consultations.tests.factories import make_live_consultation

    room = make_live_consultation(service, consultant)

    doc = open_page()
    login(doc, consultant.username)
    doc.goto(f"/consultant/room/{room.pk}/")
    expect(doc.locator("#room-status")).to_contain_text("Клиент ещё не подключился")

    cli = open_page()
    cli.goto(f"/c/{room.client_token}/")
    expect(cli.locator("#recording-notice")).to_be_visible()
    cli.get_by_role("button", name="Продолжить").click()
    expect(cli.locator("#check-status")).to_contain_text("работают")
    axe_check(cli, where="device check")
    cli.get_by_role("link", name="Перейти в зал ожидания").click()
    expect(cli.locator("#room-status")).to_contain_text("Подождите")
    axe_check(cli, where="waiting room")

    expect(doc.locator("#admit-button")).to_be_enabled()
    doc.get_by_role("button", name="Впустить").click()
    wait_frames_growing(doc)
    wait_frames_growing(cli)
    axe_check(doc, where="consultant room")

    cli.get_by_label("Сообщение").fill("Здравствуйте, у меня вопрос")
    cli.get_by_role("button", name="Отправить", exact=True).click()
    expect(doc.locator("#chat-log")).to_contain_text("Здравствуйте, у меня вопрос")
    doc.get_by_label("Сообщение").fill("Слушаю вас")
    doc.get_by_role("button", name="Отправить", exact=True).click()
    expect(cli.locator("#chat-log")).to_contain_text("Слушаю вас")

    # The server says the client stopped receiving signals (its queue was full, code
    # "peer_full"): the consultant reads why, and the call is started over by itself.
    doc.evaluate("window.__pcBefore = oporaRoom.pc")
    doc.evaluate(
        """oporaRoom.state.ws.onmessage({data: JSON.stringify({
            type: "error", code: "peer_full", message: "Собеседник сейчас не получает сигналы"})})"""
    )
    expect(doc.locator("#room-alert")).to_contain_text("Собеседник сейчас не получает сигналы")
    # A function, not an expression: Playwright would eval() an expression, which the CSP refuses.
    doc.wait_for_function(
        "() => oporaRoom.pc && oporaRoom.pc !== window.__pcBefore", timeout=10_000
    )
    wait_frames_growing(doc)
    wait_frames_growing(cli)

    # Voice only is offered in the help with sound or picture.
    cli.get_by_role("button", name="Проблема со звуком или изображением").click()
    cli.get_by_role("button", name="Только голос").click()
    expect(doc.locator("#room-status")).to_contain_text("только голос")
    time.sleep(1)  # frames in flight
    before = frames(doc)
    time.sleep(2)
    assert frames(doc) == before, "the client's video still flows after 'voice only'"
    axe_check(cli, where="client room")

    doc.once("dialog", lambda d: d.accept())
    doc.get_by_role("button", name="Завершить консультацию").click()
    expect(cli.locator("#room-status")).to_contain_text("завершена")
