"""Recording and files in two browsers: the consultant's room records the call in 5-second chunks,
both rooms show the indicator, a file sent in the chat reaches the other side (a disallowed one is
refused with the reason), and the head downloads the decrypted WebM with a logged reason.
axe-core checks the device check (with its speed hint), both rooms, and the head's pages."""

import time

import pytest
from playwright.sync_api import expect

from e2e import test_room
from e2e.conftest import e2e_db, login

# The room's fixtures (uvicorn serving HTTP and WebSockets, pages in fresh contexts).
asgi_server = test_room.asgi_server
open_page = test_room.open_page
wait_frames_growing = test_room.wait_frames_growing

pytestmark = e2e_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"synthetic leaflet " * 20


def _wait(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


def test_record_send_files_and_download(
    open_page, service, consultant, head, axe_check, settings, tmp_path
):
    from opora.consultations.models import ChatMessage, Recording, RecordingAccess, RecordingChunk
    from opora.consultations.tests.factories import make_live_consultation

    settings.OPORA_RECORDING_ROOT = str(tmp_path / "private")
    room = make_live_consultation(service, consultant)  # 1411: recorded with notice

    doc = open_page()
    login(doc, consultant.username)
    doc.goto(f"/consultant/room/{room.pk}/")
    expect(doc.locator("#room-status")).to_contain_text("Клиент ещё не подключился")

    cli = open_page()
    cli.goto(f"/c/{room.client_token}/")
    expect(cli.locator("#recording-notice")).to_be_visible()
    cli.get_by_role("button", name="Продолжить").click()
    # The measured connection: on this machine fast enough for video.
    expect(cli.locator("#speed-result")).to_have_attribute("data-verdict", "video")
    expect(cli.locator("#speed-result")).to_contain_text("Мбит/с")
    axe_check(cli, where="device check with the speed hint")
    cli.get_by_role("link", name="Перейти в зал ожидания").click()
    expect(cli.locator("#room-status")).to_contain_text("Подождите")

    expect(doc.locator("#admit-button")).to_be_enabled()
    doc.get_by_role("button", name="Впустить").click()
    wait_frames_growing(doc)
    # Recording starts with the call; both rooms say so.
    expect(doc.locator("#recording-indicator")).to_be_visible()
    expect(cli.locator("#recording-indicator")).to_be_visible()
    expect(cli.locator("#recording-indicator")).to_contain_text("записывается")
    axe_check(doc, where="consultant room while recording")
    axe_check(cli, where="client room while recording")

    # A file from the client reaches the consultant; a program is refused with the reason.
    cli.locator("#file-input").set_input_files(
        {"name": "Справка.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    cli.get_by_role("button", name="Отправить файл").click()
    expect(doc.locator("#chat-log")).to_contain_text("Справка.pdf")
    expect(cli.locator("#chat-log")).to_contain_text("Справка.pdf")
    with doc.expect_download() as dl:
        doc.locator("#chat-log a", has_text="Справка.pdf").click()
    assert open(dl.value.path(), "rb").read() == PDF
    cli.locator("#file-input").set_input_files(
        {"name": "setup.exe", "mimeType": "application/octet-stream", "buffer": b"MZ\x90\x00"}
    )
    cli.get_by_role("button", name="Отправить файл").click()
    expect(cli.locator("#file-error")).to_contain_text("exe")
    assert ChatMessage.objects.filter(consultation=room).count() == 1

    # A few seconds of recording: chunks arrive every 5 seconds.
    _wait(
        lambda: RecordingChunk.objects.filter(recording__consultation=room).count() >= 2,
        timeout=30,
        what="two recording chunks",
    )
    doc.once("dialog", lambda d: d.accept())
    doc.get_by_role("button", name="Завершить консультацию").click()
    expect(cli.locator("#room-status")).to_contain_text("завершена")
    # The indicator goes with the call on both sides.
    expect(cli.locator("#recording-indicator")).to_be_hidden()
    expect(doc.locator("#recording-indicator")).to_be_hidden()
    _wait(
        lambda: Recording.objects.filter(consultation=room, status="finished").exists(),
        timeout=20,
        what="the recording to be finished",
    )
    recording = Recording.objects.get(consultation=room)
    assert recording.chunk_count >= 2 and recording.sha256

    boss = open_page()
    login(boss, head.username)
    boss.goto("/consultations/recordings/")
    expect(boss.locator("#recordings-table")).to_contain_text(f"№ {recording.pk}")
    axe_check(boss, where="recordings list")
    boss.get_by_role("link", name=f"№ {recording.pk}").click()
    axe_check(boss, where="recording page")
    boss.get_by_label("Зачем вы открываете запись?").fill("Проверка жалобы № 5")
    with boss.expect_download() as dl:
        boss.get_by_role("button", name="Скачать запись (WebM)").click()
    data = open(dl.value.path(), "rb").read()
    assert data[:4] == bytes.fromhex("1a45dfa3"), data[:16]
    assert len(data) == recording.size
    assert RecordingAccess.objects.get(recording=recording).reason == "Проверка жалобы № 5"
    boss.reload()
    expect(boss.locator("#access-table")).to_contain_text("Проверка жалобы № 5")
