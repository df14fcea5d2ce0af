"""The one shape every messenger adapter has: verify a webhook, parse it, send a text.

Adding a channel = one `ChannelAdapter` subclass registered with `@register("name")`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    import httpx

    from opora.messengers.models import ChannelAccount

logger = logging.getLogger("opora.messengers")

TIMEOUT_S, CONNECT_TIMEOUT_S = 10.0, 5.0


@dataclass(frozen=True)
class Button:
    text: str
    request_contact: bool = False
    # A link button (Telegram's inline keyboard); channels without them get the link in the text.
    url: str = ""
    # A button that answers in the chat (Telegram's callback_data, at most 64 bytes).
    data: str = ""


@dataclass(frozen=True)
class InboundMessage:
    """A message from a client, the same for every channel."""

    external_id: str  # the provider's id of this delivery (update_id, message id, event_id...)
    chat_id: str
    user_id: str = ""
    text: str = ""
    display_name: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    phone: str = ""  # a contact the client shared about themselves
    language: str = ""
    # A tap on a button under a message (Telegram's callback_query): its id, to answer it, and
    # the message the button is under, to mark the choice; `text` is the button's data.
    callback_id: str = ""
    callback_message_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InboundMessage:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


class SendError(Exception):
    """The provider did not take the message. `retryable`: a later attempt may succeed."""

    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


def hmac_sha256_hex(key: str, body: bytes) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison; an empty expected value never matches."""
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


class ChannelAdapter:
    channel: ClassVar[str] = ""
    default_api_base: ClassVar[str] = ""
    settings_api_base: ClassVar[str] = ""

    def __init__(self, account: ChannelAccount) -> None:
        self.account = account

    # --- inbound ----------------------------------------------------------------------------
    def verify(self, request: HttpRequest, body: bytes, data: Any) -> bool:
        """Whether the webhook call comes from the provider (signature or shared secret)."""
        raise NotImplementedError

    def subscribe(self, request: HttpRequest) -> HttpResponse | None:
        """Answer a GET set-up handshake (WhatsApp), or None when the channel has none."""
        return None

    def handshake(self, data: Any) -> HttpResponse | None:
        """An immediate answer to a verified set-up call in the body (VK confirmation, ...)."""
        return None

    def parse(self, data: Any) -> list[InboundMessage]:
        """The client messages in a verified webhook body (none for status updates)."""
        raise NotImplementedError

    def ack(self) -> HttpResponse:
        return HttpResponse("ok", content_type="text/plain")

    # --- outbound ---------------------------------------------------------------------------
    @property
    def api_base(self) -> str:
        from django.conf import settings

        base = self.account.api_base or getattr(
            settings, self.settings_api_base, self.default_api_base
        )
        return base.rstrip("/")

    def send_text(
        self,
        *,
        chat_id: str,
        text: str,
        buttons: list[list[Button]] | None = None,
        idempotency_key: str = "",
    ) -> str:
        """Send `text` (with rows of plain buttons where the channel has them); return the
        provider's message id or raise SendError."""
        raise NotImplementedError

    # Whether `send_document` sends a file (Telegram, WhatsApp and VK upload it; Viber fetches
    # it from `file_url`); a channel without files is refused before anything is queued.
    sends_files = False
    # Whether the provider fetches the file itself from a public address of Opora (Viber):
    # `chat_send` then passes `file_url`, a signed expiring link to this message's file.
    files_by_url = False

    def send_document(
        self,
        *,
        chat_id: str,
        file_name: str,
        content: bytes,
        caption: str = "",
        idempotency_key: str = "",
        file_url: str = "",
    ) -> str:
        """Send a document with `caption`; return the provider's message id or raise SendError.
        `file_url`: the file's public address, given to channels with `files_by_url`."""
        raise SendError("this channel does not send files", retryable=False)

    def answer_callback(self, *, callback_id: str, text: str = "") -> None:
        """Acknowledge a tap on a button (channels without such buttons: nothing to do)."""

    def edit_buttons(
        self, *, chat_id: str, message_id: str, buttons: list[list[Button]] | None
    ) -> None:
        """Replace the buttons under a sent message (channels without: nothing to do)."""

    def _post(self, url: str, **kwargs: Any) -> httpx.Response:
        import httpx  # on first send, not at every process's start-up

        try:
            with httpx.Client(
                timeout=httpx.Timeout(TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
            ) as client:
                response = client.post(url, **kwargs)
        except httpx.HTTPError as exc:
            raise SendError(type(exc).__name__) from None
        if response.status_code == 429 or response.status_code >= 500:
            raise SendError(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            # The request itself is wrong (bad chat, bot blocked, bad token): retrying won't help.
            raise SendError(f"HTTP {response.status_code}", retryable=False)
        return response

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise SendError("bad JSON answer") from None
