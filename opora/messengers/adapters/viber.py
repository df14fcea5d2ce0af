"""Viber REST bot API (https://developers.viber.com/docs/api/rest-bot-api/)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from opora.messengers.adapters import register
from opora.messengers.adapters.base import (
    Button,
    ChannelAdapter,
    InboundMessage,
    SendError,
    hmac_sha256_hex,
    same,
)

# status codes of Viber's answers that a later attempt may get past
_RETRYABLE = {2, 11, 12}  # invalidAuthToken is not; 11/12: receiver/rate problems


@register("viber")
class ViberAdapter(ChannelAdapter):
    default_api_base = "https://chatapi.viber.com/pa"
    settings_api_base = "OPORA_VIBER_API_BASE"

    def verify(self, request: HttpRequest, body: bytes, data: Any) -> bool:
        given = request.headers.get("X-Viber-Content-Signature", "")
        token = self.account.secret("token")
        return bool(token) and same(hmac_sha256_hex(token, body), given)

    def parse(self, data: Any) -> list[InboundMessage]:
        if not isinstance(data, dict) or data.get("event") != "message":
            return []  # webhook set-up, delivered/seen, subscribed...: nothing to store
        sender = data.get("sender") or {}
        msg = data.get("message") or {}
        kind = msg.get("type", "")
        attachments = []
        if kind in ("picture", "video", "file"):
            attachments.append(
                {
                    "type": kind,
                    "url": msg.get("media", ""),
                    "file_name": msg.get("file_name", ""),
                    "size": msg.get("size"),
                }
            )
        contact = msg.get("contact") or {}
        token = data.get("message_token")
        if token is None or not sender.get("id"):
            return []
        return [
            InboundMessage(
                external_id=str(token),
                chat_id=str(sender["id"]),
                user_id=str(sender["id"]),
                text=str(msg.get("text") or ""),
                display_name=str(sender.get("name") or ""),
                attachments=attachments,
                phone=str(contact.get("phone_number") or "") if kind == "contact" else "",
                language=str(sender.get("language") or ""),
            )
        ]

    def send_text(
        self,
        *,
        chat_id: str,
        text: str,
        buttons: list[list[Button]] | None = None,
        idempotency_key: str = "",
    ) -> str:
        payload: dict[str, Any] = {
            "receiver": chat_id,
            "type": "text",
            "text": text,
            "sender": {"name": self.account.name[:28]},
        }
        flat = [b for row in buttons or [] for b in row]
        if flat:
            payload["keyboard"] = {
                "Type": "keyboard",
                "Buttons": [
                    {
                        "ActionType": "share-phone" if b.request_contact else "reply",
                        "ActionBody": b.text,
                        "Text": b.text,
                        "Columns": 6,
                        "Rows": 1,
                    }
                    for b in flat
                ],
            }
            payload["min_api_version"] = 3
        return self._send(payload)

    sends_files = True
    files_by_url = True
    # Viber's limit on a file's name (with its extension).
    FILE_NAME_MAX = 256

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
        """A "file" message: Viber fetches the file from `file_url` (a signed, expiring public
        address of Opora). A file message has no text, so the answer goes first, as a text."""
        if not file_url:
            raise SendError("viber: no public address of the file", retryable=False)
        if caption:
            self.send_text(chat_id=chat_id, text=caption, idempotency_key=idempotency_key)
        return self._send(
            {
                "receiver": chat_id,
                "type": "file",
                "media": file_url,
                "size": len(content),
                "file_name": file_name[-self.FILE_NAME_MAX :],
                "sender": {"name": self.account.name[:28]},
            }
        )

    def _send(self, payload: dict[str, Any]) -> str:
        response = self._post(
            f"{self.api_base}/send_message",
            json=payload,
            headers={"X-Viber-Auth-Token": self.account.secret("token")},
        )
        data = self._json(response)
        status = data.get("status")
        if status != 0:
            raise SendError(f"viber status {status}", retryable=status in _RETRYABLE)
        return str(data.get("message_token", ""))
