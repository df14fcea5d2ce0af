"""Reading a raw letter (RFC 5322 bytes) into the few facts the intake needs. No I/O here."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses

from django.utils.html import strip_tags

_MSGID = re.compile(r"<[^<>\s]+>")
_WS = re.compile(r"\s+")
SUBJECT_MAX = 500


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class ParsedLetter:
    message_id: str
    from_address: str
    from_name: str
    reply_to: str
    subject: str
    body_text: str
    in_reply_to: str
    references: list[str]
    is_spam: bool
    attachments: list[ParsedAttachment] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        """Every Message-ID this letter says it follows, the nearest first."""
        ids = [self.in_reply_to] if self.in_reply_to else []
        ids += [r for r in reversed(self.references) if r not in ids]
        return ids


def _header(msg: EmailMessage, name: str) -> str:
    # A malformed header must not lose the letter: fall back to its raw text.
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - any parser defect in one header
        value = msg.get_all(name, [""])[0] if hasattr(msg, "get_all") else ""
    return "" if value is None else str(value)


def _first_msgid(value: str) -> str:
    match = _MSGID.search(value or "")
    return match.group(0)[:500] if match else ""


def stable_id(raw: bytes) -> str:
    """The id of a letter without a Message-ID: the same bytes give the same id on every fetch."""
    return f"<{hashlib.sha256(raw).hexdigest()}@hash.opora>"


def _address(value: str) -> tuple[str, str]:
    pairs = [(n, a) for n, a in getaddresses([value]) if "@" in a]
    if not pairs:
        return "", ""
    name, addr = pairs[0]
    return " ".join(name.split())[:400], addr.strip()[:254]


def _is_spam(msg: EmailMessage) -> bool:
    flag = _header(msg, "X-Spam-Flag").strip().lower()
    status = _header(msg, "X-Spam-Status").strip().lower()
    return flag.startswith("yes") or status.startswith("yes")


def _body_text(msg: EmailMessage) -> str:
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except Exception:  # noqa: BLE001 - a broken MIME tree still has its raw source stored
        part = None
    if part is None:
        return ""
    try:
        text = part.get_content()
    except Exception:  # noqa: BLE001 - unknown charset: decode what can be decoded
        payload = part.get_payload(decode=True)
        text = (payload if isinstance(payload, bytes) else b"").decode("utf-8", errors="replace")
    if not isinstance(text, str):
        return ""
    if part.get_content_subtype() == "html":
        text = strip_tags(text)
    return text.replace("\r\n", "\n").strip()


def _safe_filename(name: str | None, n: int) -> str:
    base = os.path.basename((name or "").replace("\\", "/")).strip().strip(".")
    return (base or f"attachment-{n}.bin")[:200]


def _attachments(msg: EmailMessage) -> list[ParsedAttachment]:
    found = []
    try:
        parts = list(msg.iter_attachments()) if msg.is_multipart() else []
    except Exception:  # noqa: BLE001
        parts = []
    for n, part in enumerate(parts, start=1):
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        found.append(
            ParsedAttachment(
                filename=_safe_filename(part.get_filename(), n),
                content_type=part.get_content_type()[:150],
                content=content,
            )
        )
    return found


def parse_letter(raw: bytes) -> ParsedLetter:
    """The facts of a raw letter; never raises on a malformed one (the raw source is kept)."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    from_name, from_address = _address(_header(msg, "From"))
    _name, reply_to = _address(_header(msg, "Reply-To"))
    subject = _WS.sub(" ", _header(msg, "Subject")).strip()[:SUBJECT_MAX]
    return ParsedLetter(
        message_id=_first_msgid(_header(msg, "Message-ID")) or stable_id(raw),
        from_address=from_address,
        from_name=from_name,
        reply_to=reply_to,
        subject=subject,
        body_text=_body_text(msg),
        in_reply_to=_first_msgid(_header(msg, "In-Reply-To")),
        references=[m[:500] for m in _MSGID.findall(_header(msg, "References"))][-50:],
        is_spam=_is_spam(msg),
        attachments=_attachments(msg),
    )
