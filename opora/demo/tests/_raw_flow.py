"""The e-mail and messenger part of the raw-database test's flow (synthetic), through the real
entry points: the letter is fetched from a real IMAP server (dovecot, as the mail tests run it)
by the mailbox fetcher, and the messenger messages are posted to the real Telegram webhook with
the channel's secret, stored (`InboundUpdate.payload`), processed and answered by the bot (to a
stand-in Bot API). `stored_files_with` scans the storage directories for the same values."""

from __future__ import annotations

import os
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from django.test import Client as HttpClient

from opora.mail.imap import mailbox_fetch
from opora.mail.models import InboundMessage
from opora.mail.services import inbound_store
from opora.mail.tests.conftest import DOVECOT
from opora.mail.tests.factories import make_letter, make_mailbox
from opora.messengers.models import ChannelAccount, Conversation, InboundUpdate
from opora.messengers.testing import StandInApi, telegram_update

WEBHOOK_SECRET = "raw-flow-webhook-secret"  # noqa: S105 - a throwaway test channel's secret


def _letter_by_imap(*, fixtures: Any, service: Any, raw: Any) -> None:
    """Through IMAP when dovecot is installed (`make test` installs it); else through the
    service the fetcher hands each fetched letter to, with the same bytes."""
    if os.path.exists(DOVECOT):
        imap = fixtures.getfixturevalue("imap_server")
        imap.clear()
        mailbox = make_mailbox(service, imap=imap)
        imap.append(raw)
        result = mailbox_fetch(mailbox)
        assert (result.stored, result.failed) == (1, 0)
    else:
        inbound_store(mailbox=make_mailbox(service), raw=raw.as_bytes())
    assert InboundMessage.objects.filter(mailbox__service=service).count() == 1


def _messages_by_webhook(
    *, fixtures: Any, service: Any, last_name: str, first_name: str, message: str
) -> None:
    stand_in = StandInApi().start()
    try:
        account = ChannelAccount.objects.create(
            channel="telegram",
            slug=f"{service.code}-raw",
            service=service,
            name="bot",
            token="raw-flow-token",  # noqa: S106 - a throwaway test channel's token
            webhook_secret=WEBHOOK_SECRET,
            api_base=stand_in.base_url,
        )
        http = HttpClient()
        capture = fixtures.getfixturevalue("django_capture_on_commit_callbacks")
        sender = {"id": 555, "is_bot": False, "first_name": first_name, "last_name": last_name}
        url = f"/messengers/telegram/{account.slug}/webhook/"
        for n, text in enumerate(["/start", "Записаться на консультацию", message], start=1):
            update = telegram_update(n, 555, text)
            update["message"]["from"] = sender  # the parent's own name in Telegram
            with capture(execute=True):
                response = http.post(
                    url,
                    data=update,
                    content_type="application/json",
                    headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
                )
            assert response.status_code == 200
        assert InboundUpdate.objects.filter(account=account, status="processed").count() == 3
        conversation = Conversation.objects.get(account=account)
        # The unfinished dialogue holds the message as the request's reason (the draft).
        assert conversation.state == Conversation.State.ASK_IIN
        assert conversation.draft["reason"] == message
        assert stand_in.sent("/sendMessage")  # the bot answered
    finally:
        stand_in.stop()


def letter_and_messenger(
    *,
    fixtures: Any,
    service: Any,
    request: Any,
    sender: str,
    last_name: str,
    first_name: str,
    letter: str,
    message: str,
) -> None:
    """A letter from the parent fetched from the mailbox, and messages in a Telegram chat.
    `fixtures` is the test's pytest `request` (for the IMAP server and on-commit capture)."""
    raw = make_letter(
        sender=f"{last_name} {first_name} <{sender}>",
        to="written@opora.test",
        body=letter,
        attachment=("письмо.txt", letter.encode(), "text/plain"),
    )
    _letter_by_imap(fixtures=fixtures, service=service, raw=raw)
    _messages_by_webhook(
        fixtures=fixtures,
        service=service,
        last_name=last_name,
        first_name=first_name,
        message=message,
    )


def _readable(data: bytes) -> str:
    """What a file would reveal: its bytes as text, and, when it parses as a letter, its headers
    and decoded parts (a clear .eml carries Cyrillic in base64 or quoted-printable)."""
    out = [data.decode("utf-8", errors="ignore")]
    letter = message_from_bytes(data, policy=policy.default)
    if letter.keys():
        out += [str(v) for v in letter.values()]
        for part in letter.walk():
            if part.is_multipart():
                continue
            try:
                content = part.get_content()
            except (LookupError, ValueError):
                continue
            out.append(content if isinstance(content, str) else content.decode("utf-8", "ignore"))
    return "\n".join(out).casefold()


def stored_files_with(roots: list[Path], secrets: dict[str, str]) -> list[tuple[str, str]]:
    """(what, file) for every file under `roots` that reveals one of `secrets` in clear."""
    found = []
    files = [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]
    assert files, "the flow stored no file: the scan would prove nothing"
    for path in files:
        text = _readable(path.read_bytes())
        found += [
            (what, str(path)) for what, secret in secrets.items() if secret.casefold() in text
        ]
    return found
