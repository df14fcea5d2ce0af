"""Issue 12 in the browser: the head keeps the service's rooms and addresses and chooses the form
and room of a slot on a staff screen (bad input named: no name, a duplicate, a place in use
cannot be deleted); a consultant answers a Telegram conversation with a file, which reaches a
stand-in Bot API through sendDocument. axe-core on every page."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import e2e_db, future_working_day, login, make_slots

pytestmark = e2e_db


@pytest.fixture
def stand_in():
    from opora.messengers.testing import StandInApi

    api = StandInApi().start()
    yield api
    api.stop()


def test_head_manages_places_and_the_form_of_a_slot(new_page, axe_check, service, head, consultant):
    from opora.scheduling.models import Place, Slot

    day = future_working_day(service)
    slot = make_slots(service, consultant, day, hours=(14,))[0]
    page = new_page()
    login(page, head.username)
    page.goto("/")
    page.locator("#link-places").click()
    expect(page).to_have_url(re.compile(r"/places/$"))
    expect(page.locator("#places-empty")).to_be_visible()
    axe_check(page, where="places, empty")

    page.locator("#place-new").click()
    page.locator("#place-save").click()  # no name: the error names it, nothing is saved
    expect(page.locator(".error-summary")).to_be_visible()
    axe_check(page, where="place form with an error")
    page.locator("#id_name").fill("Кабинет 7")
    page.locator("#id_address").fill("ул. Тестовая, 7")
    page.locator("#place-save").click()
    expect(page.locator("#places")).to_contain_text("Кабинет 7")
    axe_check(page, where="places")
    room = Place.objects.get(service=service, name="Кабинет 7")

    page.locator("#place-new").click()
    page.locator("#id_name").fill("кабинет 7")
    page.locator("#place-save").click()  # a duplicate of the same service is named
    expect(page.locator(".error-summary")).to_contain_text("Кабинет 7", ignore_case=True)
    assert Place.objects.filter(service=service).count() == 1

    page.goto(f"/places/slots/?date={day:%Y-%m-%d}")
    axe_check(page, where="forms of slots")
    page.locator(f"#slot-edit-{slot.pk}").click()
    axe_check(page, where="form of a slot")
    page.locator("#id_form").select_option("in_person")
    page.locator("#slot-save").click()  # in person without a room: named
    expect(page.locator(".error-summary")).to_be_visible()
    page.locator("#id_place").select_option(str(room.pk))
    page.locator("#slot-save").click()
    expect(page.locator(f"#slot-{slot.pk}")).to_contain_text("Кабинет 7")
    slot = Slot.objects.get(pk=slot.pk)
    assert (slot.form, slot.place_id) == ("in_person", room.pk)

    page.goto("/places/")
    page.locator(f"#place-delete-{room.pk}").click()  # in use: refused, kept
    expect(page.locator(".message--error")).to_be_visible()
    assert Place.objects.filter(pk=room.pk).exists()
    page.locator(f"#place-deactivate-{room.pk}").click()
    expect(page.locator(f"#place-{room.pk} .badge")).to_be_visible()
    axe_check(page, where="places after taking one out of use")
    assert not Place.objects.get(pk=room.pk).is_active


def test_consultant_answers_a_telegram_conversation_with_a_file(
    new_page, axe_check, tmp_path, settings, service, consultant, stand_in
):
    from opora.messengers.models import ChannelAccount, Conversation
    from opora.scheduling.tests.factories import make_request

    settings.MEDIA_ROOT = tmp_path / "media"
    account = ChannelAccount.objects.create(
        service=service,
        channel="telegram",
        slug="files-bot",
        name="Бот службы",
        token="123:FILE",
        webhook_secret="hook-secret",
        api_base=stand_in.base_url,
    )
    request = make_request(service, channel="telegram", full_name="Тестова Анна")
    conversation = Conversation.objects.create(
        account=account, external_chat_id="616161", request=request
    )
    document = tmp_path / "Порядок.pdf"
    document.write_bytes(b"%PDF-1.4 synthetic\n" * 20)

    page = new_page()
    page.set_viewport_size({"width": 360, "height": 780})
    login(page, consultant.username)
    page.goto(f"/messengers/conversations/{conversation.pk}/")
    axe_check(page, where="conversation with the file field")
    page.locator("#reply-text").fill("Высылаю порядок оказания услуг.")
    page.locator("#reply-file").set_input_files(str(document))
    page.locator("#reply-send").click()
    expect(page.locator(".message--success")).to_be_visible()
    expect(page.locator("#history")).to_contain_text("Порядок.pdf")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    axe_check(page, where="conversation after an answer with a file")

    sent = stand_in.sent("/bot123:FILE/sendDocument")
    assert len(sent) == 1
    assert sent[0].body["caption"] == "Высылаю порядок оказания услуг."
    assert sent[0].body["document"]["file_name"] == "Порядок.pdf"
    assert sent[0].body["document"]["size"] == document.stat().st_size
    assert sent[0].body["document"]["content"] == document.read_bytes()
    # Stored sealed, under a neutral name (issue 15).
    stored = [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
    assert len(stored) == 1 and b"%PDF" not in stored[0].read_bytes()
    assert "Порядок" not in stored[0].name
