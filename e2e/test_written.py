"""Written consultation in the browser (regulation 002 §4.6): the consultant opens the letter,
writes the answer, and a real SMTP server (aiosmtpd) receives it in the client's thread. axe-core
checks the list, the thread and the quarantine."""

import pytest
from playwright.sync_api import expect

from e2e.conftest import e2e_db, login

pytestmark = e2e_db


@pytest.fixture
def smtp(settings, tmp_path):
    from opora.mail.tests.conftest import SmtpServer, free_port

    settings.MEDIA_ROOT = tmp_path / "media"
    server = SmtpServer("127.0.0.1", free_port())
    server.start()
    yield server
    server.stop()


def test_consultant_answers_a_letter(new_page, smtp, axe_check):
    from opora.accounts.models import Role
    from opora.demo.factories import make_user
    from opora.mail.models import OutgoingLetter
    from opora.mail.services import inbound_store
    from opora.mail.tests.factories import make_letter, make_mailbox, make_written_service

    service = make_written_service()
    consultant = make_user(Role.CONSULTANT, service=service)
    head = make_user(Role.HEAD, service=service)
    mailbox = make_mailbox(service, smtp=smtp, consultant=consultant)
    letter, _ = inbound_store(
        mailbox=mailbox,
        raw=make_letter(
            message_id="<browser@example.org>",
            subject="Нужна консультация логопеда",
            attachment=("заключение.txt", b"synthetic", "text/plain"),
        ).as_bytes(),
    )
    inbound_store(mailbox=mailbox, raw=make_letter(headers={"X-Spam-Flag": "YES"}).as_bytes())
    code = letter.request.public_code

    page = new_page()
    login(page, consultant.username)
    page.goto("/mail/written/")
    expect(page.locator("h1")).to_have_text("Письменные обращения")
    axe_check(page, where="written requests")
    page.get_by_role("link", name=code).click()
    expect(page.locator("h1")).to_contain_text(code)
    expect(page.locator("#thread")).to_contain_text("плохо говорит")
    expect(page.locator("#due-on")).to_contain_text(letter.due_on.strftime("%d.%m.%Y"))
    expect(page.get_by_role("link", name="заключение.txt")).to_be_visible()
    axe_check(page, where="written request thread")

    page.get_by_role("button", name="Отправить ответ").click()
    expect(page.locator(".error-summary")).to_be_visible()
    axe_check(page, where="thread with an error")
    page.get_by_label("Ответ", exact=True).fill("Рекомендуем обратиться к логопеду поликлиники.")
    page.get_by_role("button", name="Отправить ответ").click()
    expect(page.locator(".message--success")).to_be_visible()
    expect(page.locator(".thread-answer")).to_contain_text("Рекомендуем обратиться")

    assert len(smtp.received) == 1
    sent = smtp.received[0]
    assert sent["In-Reply-To"] == "<browser@example.org>"
    assert code in sent["Subject"]
    assert sent["From"].addresses[0].addr_spec == mailbox.from_address
    assert "логопеду поликлиники" in sent.get_content()
    assert OutgoingLetter.objects.get().status == OutgoingLetter.Status.SENT

    head_page = new_page()
    login(head_page, head.username)
    head_page.goto("/mail/quarantine/")
    expect(head_page.locator("#quarantine-table tbody tr")).to_have_count(1)
    axe_check(head_page, where="mail quarantine")
