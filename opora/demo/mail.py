"""Demo data for the mail app: a placeholder mailbox and a few synthetic letters (`opora demo`)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from django.utils import timezone

from opora.core.models import Service
from opora.mail.models import InboundMessage, Mailbox, TlsMode
from opora.mail.services import inbound_store

# Every address is under example domains and every person is made up.
DEMO_LETTERS: list[dict[str, Any]] = [
    {
        "id": "<demo-written-1@opora-demo.example>",
        "from": "Иванова Светлана <s.ivanova@example.org>",
        "subject": "Как оформить ребёнку место в инклюзивном классе?",
        "body": (
            "Здравствуйте! Сыну 7 лет, у него РАС. Осенью он идёт в школу. Какие документы "
            "нужны для обучения по адаптированной программе и кто составляет заключение ПМПК?\n\n"
            "С уважением, Светлана"
        ),
        "hours_ago": 2,
        "headers": {},
    },
    {
        "id": "<demo-written-2@opora-demo.example>",
        "from": "Сергей <papa.sergey@example.net>",
        "subject": "Ребёнок не спит по ночам",
        "body": (
            "Дочери 4 года, после операции плохо засыпает и просыпается с плачем. Можно ли "
            "получить письменную консультацию психолога?"
        ),
        "hours_ago": 30,
        "headers": {},
    },
    {
        "id": "<demo-spam-1@opora-demo.example>",
        "from": "Promo <promo@example.com>",
        "subject": "Выиграйте приз!",
        "body": "Синтетическое рекламное письмо для демонстрации карантина.",
        "hours_ago": 5,
        "headers": {"X-Spam-Flag": "YES"},
    },
]


def _letter(spec: dict, to: str, when: dt.datetime) -> bytes:
    msg = EmailMessage()
    msg["From"] = spec["from"]
    msg["To"] = to
    msg["Subject"] = spec["subject"]
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = spec["id"]
    for name, value in spec["headers"].items():
        msg[name] = value
    msg.set_content(spec["body"])
    return msg.as_bytes()


def demo_mail(service: Service) -> Mailbox:
    """A mailbox row for `service` pointing at localhost with a placeholder password, switched
    off (so the every-minute fetch does not fail against a server that is not there), and three
    synthetic letters stored through the real intake path: two written requests and one letter
    in quarantine. Safe to re-run: the Message-IDs are fixed, so nothing is stored twice.
    """
    address = service.public_email or f"written-{service.code}@opora-demo.example"
    mailbox, _ = Mailbox.objects.get_or_create(
        from_address=address,
        defaults={
            "service": service,
            "name": "Официальная почта (демо)",
            "is_active": False,
            "imap_host": "localhost",
            "imap_port": 143,
            "imap_tls": TlsMode.STARTTLS,
            "imap_user": address,
            "imap_password": "CHANGE-ME-demo-placeholder",  # noqa: S106 - not a real secret
            "smtp_host": "localhost",
            "smtp_port": 587,
            "smtp_tls": TlsMode.STARTTLS,
            "smtp_user": address,
            "smtp_password": "CHANGE-ME-demo-placeholder",  # noqa: S106
            "from_name": service.name[:200],
            "assignment": Mailbox.Assignment.LEAST_LOADED,
        },
    )
    now = timezone.now()
    for spec in DEMO_LETTERS:
        if InboundMessage.objects.filter(mailbox=mailbox, message_id=spec["id"]).exists():
            continue
        when = now - dt.timedelta(hours=spec["hours_ago"])
        inbound_store(mailbox=mailbox, raw=_letter(spec, address, when), received_at=when)
    return mailbox
