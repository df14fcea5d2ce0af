"""Telegram Bot API over webhooks (https://core.telegram.org/bots/api#setwebhook)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from opora.messengers.adapters import register
from opora.messengers.adapters.base import (
    Button,
    ChannelAdapter,
    InboundMessage,
    SendError,
    same,
)

_MEDIA = ("document", "audio", "voice", "video", "video_note", "sticker", "animation")


def _attachments(msg: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    if msg.get("photo"):
        biggest = msg["photo"][-1]
        found.append(
            {"type": "photo", "file_id": biggest.get("file_id"), "size": biggest.get("file_size")}
        )
    for kind in _MEDIA:
        media = msg.get(kind)
        if isinstance(media, dict):
            found.append(
                {
                    "type": kind,
                    "file_id": media.get("file_id"),
                    "size": media.get("file_size"),
                    "mime_type": media.get("mime_type", ""),
                    "file_name": media.get("file_name", ""),
                }
            )
    return found


def _chat(chat_id: str) -> int | str:
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


def _inline(buttons: list[list[Button]]) -> dict[str, Any]:
    return {
        "inline_keyboard": [
            [
                {"text": b.text, "url": b.url}
                if b.url
                else {"text": b.text, "callback_data": b.data}
                for b in row
                if b.url or b.data
            ]
            for row in buttons
        ]
    }


@register("telegram")
class TelegramAdapter(ChannelAdapter):
    default_api_base = "https://api.telegram.org"
    settings_api_base = "OPORA_TELEGRAM_API_BASE"

    def verify(self, request: HttpRequest, body: bytes, data: Any) -> bool:
        # setWebhook(secret_token=...) makes Telegram send it in this header on every call.
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        return same(self.account.secret("webhook_secret"), given)

    def parse(self, data: Any) -> list[InboundMessage]:
        if not isinstance(data, dict) or "update_id" not in data:
            return []
        update_id = str(data["update_id"])
        callback = data.get("callback_query")
        if isinstance(callback, dict):
            message = callback.get("message") or {}
            user = callback.get("from") or {}
            text = str(callback.get("data") or "")
            msg: dict[str, Any] = {"chat": message.get("chat") or {"id": user.get("id")}}
            callback_id = str(callback.get("id") or "")
            callback_message_id = str(message.get("message_id") or "")
        else:
            callback_id = callback_message_id = ""
            msg = data.get("message") or data.get("edited_message") or {}
            if not msg:
                return []  # membership changes, polls...: nothing a consultant must read
            user = msg.get("from") or {}
            text = str(msg.get("text") or msg.get("caption") or "")
        chat = msg.get("chat") or {}
        if chat.get("id") is None:
            return []
        contact = msg.get("contact") or {}
        # Only a contact of the sender themself is their phone (not a friend's card).
        phone = (
            str(contact.get("phone_number") or "")
            if contact and contact.get("user_id") == user.get("id")
            else ""
        )
        name = " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p)
        return [
            InboundMessage(
                external_id=update_id,
                chat_id=str(chat["id"]),
                user_id=str(user.get("id") or ""),
                text=text,
                display_name=name,
                attachments=_attachments(msg),
                phone=phone,
                language=str(user.get("language_code") or ""),
                callback_id=callback_id,
                callback_message_id=callback_message_id,
            )
        ]

    sends_files = True
    # The Bot API's caption limit; a longer answer goes as a message of its own first.
    CAPTION_MAX = 1024

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
        """sendDocument (multipart): the file with the answer as its caption."""
        token = self.account.secret("token")
        if len(caption) > self.CAPTION_MAX:
            self.send_text(chat_id=chat_id, text=caption, idempotency_key=idempotency_key)
            caption = ""
        data = {"chat_id": chat_id}
        if caption:
            data["caption"] = caption
        response = self._post(
            f"{self.api_base}/bot{token}/sendDocument",
            data=data,
            files={"document": (file_name, content, "application/octet-stream")},
        )
        answer = self._json(response)
        if not answer.get("ok"):
            raise SendError(f"not ok: {answer.get('error_code', '')}", retryable=False)
        return str((answer.get("result") or {}).get("message_id", ""))

    def send_text(
        self,
        *,
        chat_id: str,
        text: str,
        buttons: list[list[Button]] | None = None,
        idempotency_key: str = "",
    ) -> str:
        payload: dict[str, Any] = {
            "chat_id": _chat(chat_id),
            "text": text,
        }
        if buttons and any(b.url or b.data for row in buttons for b in row):
            # Link and answer buttons go under the message (inline keyboard), not in the reply
            # keyboard.
            payload["reply_markup"] = _inline(buttons)
        elif buttons:
            payload["reply_markup"] = {
                "keyboard": [
                    [
                        {"text": b.text, "request_contact": True}
                        if b.request_contact
                        else {"text": b.text}
                        for b in row
                    ]
                    for row in buttons
                ],
                "resize_keyboard": True,
            }
        data = self._call("sendMessage", payload)
        return str((data.get("result") or {}).get("message_id", ""))

    def answer_callback(self, *, callback_id: str, text: str = "") -> None:
        payload: dict[str, Any] = {"callback_query_id": callback_id}
        if text:
            payload["text"] = text[:200]
        self._call("answerCallbackQuery", payload)

    def edit_buttons(
        self, *, chat_id: str, message_id: str, buttons: list[list[Button]] | None
    ) -> None:
        self._call(
            "editMessageReplyMarkup",
            {
                "chat_id": _chat(chat_id),
                "message_id": int(message_id) if message_id.isdigit() else message_id,
                "reply_markup": _inline(buttons or []),
            },
        )

    def _call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        token = self.account.secret("token")
        response = self._post(f"{self.api_base}/bot{token}/{method}", json=payload)
        data = self._json(response)
        if not isinstance(data, dict) or not data.get("ok"):
            code = data.get("error_code", "") if isinstance(data, dict) else ""
            raise SendError(f"not ok: {code}", retryable=False)
        return data
