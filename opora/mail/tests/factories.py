"""Synthetic services, mailboxes and letters for the mail tests."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from opora.core.models import Service
from opora.demo.factories import make_organisation
from opora.mail.models import Mailbox, TlsMode


def make_written_service(*, country: str = "RU", code: str = "", **kw) -> Service:
    """A district service that answers letters (regulation 002): no registry check."""
    org = make_organisation(country=country)
    defaults = {
        "code": code or f"written-{org.pk}",
        "name": "Отделение соцзащиты (синтетическое)",
        "country": country,
        "time_zone": "Europe/Moscow" if country == "RU" else "Asia/Almaty",
        "holiday_calendar": country,
        "intake_organisation": org,
        "provider_organisation": org,
        "channels": ["email", "phone"],
        "eligibility_rule": Service.Eligibility.NONE,
    }
    defaults.update(kw)
    return Service.objects.create(**defaults)


def make_mailbox(service: Service, *, imap=None, smtp=None, consultant=None, **kw) -> Mailbox:
    defaults = {
        "service": service,
        "name": "Официальная почта",
        "imap_host": imap.host if imap else "127.0.0.1",
        "imap_port": imap.port if imap else 143,
        "imap_tls": TlsMode.NONE,
        "imap_user": imap.user if imap else "written@opora.test",
        "imap_password": imap.password if imap else "placeholder",
        "smtp_host": smtp.host if smtp else "127.0.0.1",
        "smtp_port": smtp.port if smtp else 25,
        "smtp_tls": TlsMode.NONE,
        "from_address": imap.user if imap else f"written{service.pk}@opora.test",
        "from_name": "Служба поддержки",
        "assignment": Mailbox.Assignment.FIXED if consultant else Mailbox.Assignment.LEAST_LOADED,
        "consultant": consultant,
    }
    defaults.update(kw)
    return Mailbox.objects.create(**defaults)


def make_letter(
    *,
    sender: str = "Петрова Анна <anna.petrova@example.org>",
    to: str = "written@opora.test",
    subject: str = "Вопрос о развитии ребёнка",
    body: str = "Здравствуйте! Ребёнку 5 лет, он плохо говорит. Что делать?",
    message_id: str | None = "",
    in_reply_to: str = "",
    references: str = "",
    headers: dict[str, str] | None = None,
    attachment: tuple[str, bytes, str] | None = None,
    date: dt.datetime | None = None,
) -> EmailMessage:
    """A synthetic letter; `message_id=None` leaves the header out."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or dt.datetime.now(dt.UTC))
    if message_id is not None:
        msg["Message-ID"] = message_id or make_msgid(domain="example.org")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if attachment:
        filename, content, mimetype = attachment
        maintype, subtype = mimetype.split("/", 1)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg
