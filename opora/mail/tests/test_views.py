"""The staff pages: who sees which written requests, answering, quarantine, the admin's secrets."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from opora.accounts.models import Role
from opora.core.models import AuditEvent
from opora.demo.factories import make_user
from opora.intake.models import ServiceRequest
from opora.mail.models import InboundMessage, OutgoingLetter
from opora.mail.services import inbound_store
from opora.mail.tests.factories import make_letter, make_mailbox, make_written_service
from opora.web.views.common import today

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    service = make_written_service()
    mine = make_user(Role.CONSULTANT, service=service)
    other = make_user(Role.CONSULTANT, service=service)
    head = make_user(Role.HEAD, service=service)
    mailbox = make_mailbox(service, consultant=mine, smtp_port=1)  # nothing listens on port 1
    letter, _ = inbound_store(
        mailbox=mailbox,
        raw=make_letter(attachment=("план.txt", b"synthetic", "text/plain")).as_bytes(),
    )
    return service, mine, other, head, mailbox, letter


def test_consultant_sees_own_written_requests_and_head_sees_all(client, setup):
    _service, mine, other, head, _mailbox, letter = setup
    url = reverse("mail:written")
    client.force_login(mine)
    assert letter.request.public_code in client.get(url).content.decode()
    client.force_login(other)
    page = client.get(url).content.decode()
    assert letter.request.public_code not in page
    assert client.get(reverse("mail:thread", args=[letter.request_id])).status_code == 403
    client.force_login(head)
    assert letter.request.public_code in client.get(url).content.decode()


def test_thread_shows_deadline_and_overdue_and_audits_the_read(client, setup):
    service, mine, _other, _head, _mailbox, letter = setup
    # the page compares with the service's own date, not the server's: near midnight they differ
    InboundMessage.objects.filter(pk=letter.pk).update(due_on=today(service) - dt.timedelta(days=1))
    client.force_login(mine)
    response = client.get(reverse("mail:thread", args=[letter.request_id]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "плохо говорит" in html
    assert 'id="overdue"' in html
    assert "план.txt" in html
    assert AuditEvent.objects.filter(
        event_type="mail.thread_viewed", actor=mine, subject_id=str(letter.request_id)
    ).exists()


def test_answer_form_stores_the_answer_even_when_smtp_is_down(client, setup):
    _service, mine, _other, _head, _mailbox, letter = setup
    client.force_login(mine)
    url = reverse("mail:thread", args=[letter.request_id])
    response = client.post(url, {"body": "", "submission_key": "a1"})
    assert response.status_code == 400
    assert (
        "Напишите ответ" in response.content.decode()
        or "Write the answer" in response.content.decode()
    )
    response = client.post(url, {"body": "Синтетический ответ.", "submission_key": "a2"})
    assert response.status_code == 303
    out = OutgoingLetter.objects.get()
    assert out.status == OutgoingLetter.Status.QUEUED  # port 1 refused the connection
    assert ServiceRequest.objects.get().status == ServiceRequest.Status.DONE
    client.post(url, {"body": "Синтетический ответ.", "submission_key": "a2"})
    assert OutgoingLetter.objects.count() == 1


def test_attachment_is_a_download_for_the_responsible_only(client, setup):
    _service, mine, other, _head, _mailbox, letter = setup
    att = letter.attachments.get()
    url = reverse("mail:attachment", args=[att.pk])
    client.force_login(other)
    assert client.get(url).status_code == 403
    client.force_login(mine)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == b"synthetic"


def test_quarantine_page_and_release(client, setup):
    _service, _mine, _other, head, mailbox, _letter = setup
    spam, _ = inbound_store(
        mailbox=mailbox, raw=make_letter(headers={"X-Spam-Flag": "YES"}).as_bytes()
    )
    client.force_login(head)
    html = client.get(reverse("mail:quarantine")).content.decode()
    assert f"quarantined-{spam.pk}" in html
    response = client.post(reverse("mail:release", args=[spam.pk]))
    assert response.status_code == 303
    spam.refresh_from_db()
    assert spam.status == InboundMessage.Status.RELEASED
    consultant = make_user(Role.CONSULTANT, service=mailbox.service)
    client.force_login(consultant)
    assert client.get(reverse("mail:quarantine")).status_code == 403


def test_head_reassigns(client, setup):
    _service, mine, other, head, _mailbox, letter = setup
    client.force_login(head)
    client.post(reverse("mail:assign", args=[letter.request_id]), {"consultant": other.pk})
    assert ServiceRequest.objects.get().assigned_to == other


def test_admin_never_shows_the_mailbox_password(client, setup):
    _service, _mine, _other, _head, mailbox, _letter = setup
    mailbox.imap_password = "Imap-Secret-4711"
    mailbox.save()
    admin_user = make_user(Role.ADMIN, is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    url = reverse("admin:mail_mailbox_change", args=[mailbox.pk])
    assert "Imap-Secret-4711" not in client.get(url).content.decode()
    # Saved with the password fields left empty: the stored password stays.
    data = {
        field: getattr(mailbox, field)
        for field in (
            "name",
            "from_address",
            "from_name",
            "imap_host",
            "imap_port",
            "imap_tls",
            "imap_user",
            "imap_folder",
            "smtp_host",
            "smtp_port",
            "smtp_tls",
            "smtp_user",
            "assignment",
            "max_message_bytes",
        )
    }
    data.update(
        service=mailbox.service_id,
        consultant=mailbox.consultant_id,
        is_active="on",
        name="Почта отделения",
        imap_password="",
        smtp_password="",
    )
    assert client.post(url, data).status_code == 302
    mailbox.refresh_from_db()
    assert (mailbox.name, mailbox.imap_password) == ("Почта отделения", "Imap-Secret-4711")
    audit = AuditEvent.objects.get(event_type="mail.mailbox_changed")
    assert "Imap-Secret-4711" not in str(audit.extra)


def test_demo_mail_is_safe_to_rerun(settings, tmp_path):
    from opora.demo.mail import demo_mail

    settings.MEDIA_ROOT = tmp_path
    service = make_written_service(public_email="family@opora-demo.example")
    make_user(Role.CONSULTANT, service=service)
    mailbox = demo_mail(service)
    demo_mail(service)
    assert not mailbox.is_active
    assert InboundMessage.objects.filter(status="registered").count() == 2
    assert InboundMessage.objects.filter(status="quarantined").count() == 1
    assert ServiceRequest.objects.filter(channel="email").count() == 2
