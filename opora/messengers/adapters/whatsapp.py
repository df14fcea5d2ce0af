"""WhatsApp Business Cloud API (Meta Graph API webhooks and /messages)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from opora.messengers.adapters import register
from opora.messengers.adapters.base import (
    Button,
    ChannelAdapter,
    InboundMessage,
    SendError,
    hmac_sha256_hex,
    logger,
    same,
)

_MEDIA = ("image", "audio", "video", "document", "sticker", "voice")


@register("whatsapp")
class WhatsAppAdapter(ChannelAdapter):
    default_api_base = "https://graph.facebook.com/v20.0"
    settings_api_base = "OPORA_WHATSAPP_API_BASE"

    def verify(self, request: HttpRequest, body: bytes, data: Any) -> bool:
        header = request.headers.get("X-Hub-Signature-256", "")
        if not header.startswith("sha256="):
            return False
        secret = self.account.secret("app_secret")
        return bool(secret) and same(hmac_sha256_hex(secret, body), header[7:])

    def subscribe(self, request: HttpRequest) -> HttpResponse | None:
        mode = request.GET.get("hub.mode", "")
        token = request.GET.get("hub.verify_token", "")
        if mode == "subscribe" and same(self.account.secret("webhook_secret"), token):
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        logger.warning("messengers: webhook verification refused (whatsapp %s)", self.account.pk)
        return HttpResponse(status=403)

    def parse(self, data: Any) -> list[InboundMessage]:
        found = []
        for entry in (data or {}).get("entry", []) if isinstance(data, dict) else []:
            for change in entry.get("changes", []):
                value = change.get("value") or {}
                names = {
                    c.get("wa_id"): (c.get("profile") or {}).get("name", "")
                    for c in value.get("contacts", [])
                }
                for msg in value.get("messages", []):
                    kind = msg.get("type", "")
                    text = ""
                    if kind == "text":
                        text = (msg.get("text") or {}).get("body", "")
                    elif kind == "interactive":
                        reply = msg.get("interactive") or {}
                        text = (reply.get("button_reply") or reply.get("list_reply") or {}).get(
                            "title", ""
                        )
                    elif kind == "button":
                        text = (msg.get("button") or {}).get("text", "")
                    attachments = []
                    if kind in _MEDIA:
                        media = msg.get(kind) or {}
                        attachments.append(
                            {
                                "type": kind,
                                "id": media.get("id"),
                                "mime_type": media.get("mime_type", ""),
                                "file_name": media.get("filename", ""),
                            }
                        )
                        text = media.get("caption", "")
                    sender = str(msg.get("from", ""))
                    found.append(
                        InboundMessage(
                            external_id=str(msg.get("id")),
                            chat_id=sender,
                            user_id=sender,
                            text=text,
                            display_name=names.get(sender, ""),
                            attachments=attachments,
                            # The sender's number is their WhatsApp id.
                            phone="+" + sender if sender.isdigit() else "",
                        )
                    )
        return [m for m in found if m.external_id and m.external_id != "None" and m.chat_id]

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
        """Upload the file as media (Cloud API), then send it as a document with a caption."""
        headers = {"Authorization": f"Bearer {self.account.secret('token')}"}
        uploaded = self._json(
            self._post(
                f"{self.api_base}/{self.account.external_id}/media",
                data={"messaging_product": "whatsapp", "type": "application/octet-stream"},
                files={"file": (file_name, content, "application/octet-stream")},
                headers=headers,
            )
        )
        media_id = uploaded.get("id")
        if not media_id:
            raise SendError("no media id", retryable=False)
        document: dict[str, str] = {"id": str(media_id), "filename": file_name}
        if caption:
            document["caption"] = caption
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": chat_id,
            "type": "document",
            "document": document,
        }
        data = self._json(
            self._post(
                f"{self.api_base}/{self.account.external_id}/messages",
                json=payload,
                headers=headers,
            )
        )
        messages = data.get("messages") or []
        if not messages:
            raise SendError("no message id", retryable=False)
        return str(messages[0].get("id", ""))

    def send_text(
        self,
        *,
        chat_id: str,
        text: str,
        buttons: list[list[Button]] | None = None,
        idempotency_key: str = "",
    ) -> str:
        flat = [b.text for row in buttons or [] for b in row if not b.request_contact]
        if flat:
            # Reply buttons are at most 3 and 20 characters: list the choices in the text.
            text = text + "\n\n" + "\n".join(f"• {label}" for label in flat)
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": chat_id,
            "type": "text",
            "text": {"body": text},
        }
        response = self._post(
            f"{self.api_base}/{self.account.external_id}/messages",
            json=payload,
            headers={"Authorization": f"Bearer {self.account.secret('token')}"},
        )
        data = self._json(response)
        messages = data.get("messages") or []
        if not messages:
            raise SendError("no message id", retryable=False)
        return str(messages[0].get("id", ""))
