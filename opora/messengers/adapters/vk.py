"""VK Callback API and messages.send (https://dev.vk.com/ru/api/callback/getting-started)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.http import HttpRequest, HttpResponse

from opora.messengers.adapters import register
from opora.messengers.adapters.base import (
    Button,
    ChannelAdapter,
    InboundMessage,
    SendError,
    same,
)

API_VERSION = "5.199"
# VK error codes worth another attempt: too many requests, flood control, internal error.
_RETRYABLE = {1, 6, 9, 10}


def random_id(key: str) -> int:
    """messages.send's random_id from our idempotency key: a resend is dropped by VK itself."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") & 0x7FFFFFFF


@register("vk")
class VkAdapter(ChannelAdapter):
    default_api_base = "https://api.vk.com/method"
    settings_api_base = "OPORA_VK_API_BASE"

    def verify(self, request: HttpRequest, body: bytes, data: Any) -> bool:
        given = str(data.get("secret", "")) if isinstance(data, dict) else ""
        return same(self.account.secret("webhook_secret"), given)

    def handshake(self, data: Any) -> HttpResponse | None:
        if data.get("type") == "confirmation":
            return HttpResponse(self.account.confirmation_code, content_type="text/plain")
        return None

    def parse(self, data: Any) -> list[InboundMessage]:
        if data.get("type") != "message_new":
            return []
        obj = data.get("object") or {}
        msg = obj.get("message") or obj  # API 5.103+ nests it; older sends it flat
        event_id = data.get("event_id")
        peer = msg.get("peer_id") or msg.get("from_id")
        if not event_id or not peer:
            return []
        attachments = [
            {"type": a.get("type", ""), "id": (a.get(a.get("type", "")) or {}).get("id")}
            for a in msg.get("attachments") or []
        ]
        info = obj.get("client_info") or {}
        return [
            InboundMessage(
                external_id=str(event_id),
                chat_id=str(peer),
                user_id=str(msg.get("from_id") or ""),
                text=str(msg.get("text") or ""),
                attachments=attachments,
                language=str(info.get("lang_id", "")),
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
        params: dict[str, Any] = {
            "access_token": self.account.secret("token"),
            "v": API_VERSION,
            "peer_id": chat_id,
            "message": text,
            "random_id": random_id(idempotency_key or text),
        }
        if buttons:
            rows = [
                [
                    {"action": {"type": "text", "label": b.text[:40]}, "color": "secondary"}
                    for b in row
                    if not b.request_contact
                ]
                for row in buttons
            ]
            params["keyboard"] = json.dumps(
                {"one_time": False, "buttons": [r for r in rows if r]}, ensure_ascii=False
            )
        return str(self._method("messages.send", params))

    sends_files = True

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
        """VK's upload flow (https://dev.vk.com/ru/api/upload/document-in-dialog): an upload
        address for the chat, the file posted there, docs.save, then messages.send with the
        document attached and the answer as its text (random_id as the text sends)."""
        token = self.account.secret("token")
        server = self._method(
            "docs.getMessagesUploadServer",
            {"access_token": token, "v": API_VERSION, "peer_id": chat_id, "type": "doc"},
        )
        upload_url = str(server.get("upload_url") or "") if isinstance(server, dict) else ""
        if not upload_url:
            raise SendError("vk: no upload address", retryable=False)
        uploaded = self._json(
            self._post(upload_url, files={"file": (file_name, content, "application/octet-stream")})
        )
        file_ref = uploaded.get("file") if isinstance(uploaded, dict) else None
        if not file_ref:
            # The upload server names its refusal ("error"): a type or size VK does not take.
            raise SendError("vk: upload refused", retryable=False)
        saved = self._method(
            "docs.save",
            {"access_token": token, "v": API_VERSION, "file": file_ref, "title": file_name},
        )
        doc = (saved.get("doc") if isinstance(saved, dict) else None) or {}
        if not doc.get("id") or doc.get("owner_id") is None:
            raise SendError("vk: docs.save gave no document", retryable=False)
        params: dict[str, Any] = {
            "access_token": token,
            "v": API_VERSION,
            "peer_id": chat_id,
            "attachment": f"doc{doc['owner_id']}_{doc['id']}",
            "random_id": random_id(idempotency_key or file_name),
        }
        if caption:
            params["message"] = caption
        return str(self._method("messages.send", params))

    def _method(self, name: str, params: dict[str, Any]) -> Any:
        """Call API method `name`; its `response`, or SendError for VK's error answer."""
        data = self._json(self._post(f"{self.api_base}/{name}", data=params))
        if not isinstance(data, dict):
            raise SendError("vk: bad answer", retryable=False)
        if "error" in data:
            code = (data.get("error") or {}).get("error_code")
            raise SendError(f"vk error {code}", retryable=code in _RETRYABLE)
        return data.get("response", "")
