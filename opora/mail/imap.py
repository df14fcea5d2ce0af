"""Reading a service mailbox over IMAP (stdlib imaplib): new letters by UID, never marked read early.

A letter is fetched with BODY.PEEK (the server does not mark it read), stored and registered in its
own transaction, and only then flagged \\Seen on the server. New means: unread, or above the highest
UID already imported (so a letter someone opened in a mail program is not missed). A crash at any
point leaves the letter unread on the server and absent from the database, or present in the
database — where its Message-ID makes the next fetch skip it.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass

from django.utils import timezone

from opora.mail.models import Mailbox, TlsMode
from opora.mail.services import inbound_store

logger = logging.getLogger(__name__)

IMAP_TIMEOUT_SECONDS = 30
# A fetch run takes at most this many letters; the rest come a minute later.
BATCH = 200
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_UID = re.compile(rb"UID (\d+)")


@dataclass
class FetchResult:
    seen: int = 0
    stored: int = 0
    failed: int = 0


class ImapError(Exception):
    """The server said NO or BAD; carries the command only, never the server's text."""


def _ok(result: tuple, command: str) -> list:
    typ, data = result
    if typ != "OK":
        raise ImapError(command)
    return data


def _connect(mailbox: Mailbox) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    if mailbox.imap_tls == TlsMode.SSL:
        conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            mailbox.imap_host,
            mailbox.imap_port,
            ssl_context=context,
            timeout=IMAP_TIMEOUT_SECONDS,
        )
    else:
        conn = imaplib.IMAP4(mailbox.imap_host, mailbox.imap_port, timeout=IMAP_TIMEOUT_SECONDS)
        if mailbox.imap_tls == TlsMode.STARTTLS:
            _ok(conn.starttls(ssl_context=context), "STARTTLS")
    _ok(conn.login(mailbox.imap_user, mailbox.imap_password), "LOGIN")
    return conn


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _uids(data: list) -> set[int]:
    return {int(x) for x in (data[0] or b"").split()} if data else set()


def _parse_internaldate(value: bytes | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.strptime(value.decode().strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None


def _fetch_one(conn: imaplib.IMAP4, uid: int) -> tuple[bytes, dt.datetime | None] | None:
    data = _ok(conn.uid("FETCH", str(uid), "(UID INTERNALDATE BODY.PEEK[])"), "FETCH")
    for item in data:
        if isinstance(item, tuple) and len(item) >= 2:
            meta = item[0]
            match = _INTERNALDATE.search(meta)
            return item[1], _parse_internaldate(match.group(1) if match else None)
    return None  # expunged meanwhile


def mailbox_fetch(mailbox: Mailbox) -> FetchResult:
    """Import the mailbox's new letters; returns counts. Raises on connection or login failure."""
    result = FetchResult()
    conn = _connect(mailbox)
    try:
        _ok(conn.select(_quote(mailbox.imap_folder)), "SELECT")
        validity_data = conn.response("UIDVALIDITY")[1]
        validity = int(validity_data[0]) if validity_data and validity_data[0] else None
        last_uid = mailbox.last_uid if validity == mailbox.uid_validity else 0
        uids = _uids(_ok(conn.uid("SEARCH", "UNSEEN"), "SEARCH"))
        uids |= {
            u
            for u in _uids(_ok(conn.uid("SEARCH", f"UID {last_uid + 1}:*"), "SEARCH"))
            if u > last_uid  # "n:*" always returns the highest UID, even when it is below n
        }
        highest = last_uid
        for uid in sorted(uids)[:BATCH]:
            result.seen += 1
            fetched = _fetch_one(conn, uid)
            if fetched is None:
                continue
            raw, received_at = fetched
            try:
                _message, created = inbound_store(
                    mailbox=mailbox, raw=raw, received_at=received_at, imap_uid=uid
                )
            except Exception as exc:  # noqa: BLE001 - one bad letter must not stop the others
                # Left unread on the server: the next run tries it again.
                result.failed += 1
                logger.warning(
                    "mail: letter uid %s of mailbox %s not stored: %s",
                    uid,
                    mailbox.pk,
                    type(exc).__name__,
                )
                continue
            result.stored += int(created)
            # Only now, with the letter committed, does the server learn it was read.
            _ok(conn.uid("STORE", str(uid), "+FLAGS", "(\\Seen)"), "STORE")
            if not result.failed:
                highest = max(highest, uid)
        Mailbox.objects.filter(pk=mailbox.pk).update(
            uid_validity=validity, last_uid=highest, last_fetch_at=timezone.now(), last_error=""
        )
    finally:
        try:
            conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return result


def mailboxes_fetch() -> FetchResult:
    """Every active mailbox, one after another; a failing server is recorded, the others go on."""
    total = FetchResult()
    for mailbox in Mailbox.objects.filter(is_active=True).select_related("service"):
        try:
            r = mailbox_fetch(mailbox)
        except Exception as exc:  # noqa: BLE001 - a server down or a wrong password
            Mailbox.objects.filter(pk=mailbox.pk).update(last_error=type(exc).__name__[:200])
            logger.warning("mail: mailbox %s not fetched: %s", mailbox.pk, type(exc).__name__)
            continue
        total.seen += r.seen
        total.stored += r.stored
        total.failed += r.failed
    return total
