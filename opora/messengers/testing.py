"""A real HTTP server standing in for a messenger's API, for tests and the browser tests.

It listens on a free port of 127.0.0.1 in a thread, records every request (method, path,
headers, JSON or form body) and answers like the provider; `fail_next(n, status)` makes the next
n calls fail.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Where the stand-in's VK upload address points, and the owner of the documents it saves.
VK_UPLOAD_PATH = "/vk-upload/"
VK_DOC_OWNER_ID = 123456789


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class StandInApi:
    """Answers as Telegram (sendMessage, sendDocument, answerCallbackQuery,
    editMessageReplyMarkup), WhatsApp (/media, /messages), Viber (send_message) and VK
    (messages.send; docs.getMessagesUploadServer, its upload address here, docs.save)."""

    requests: list[Recorded] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{host}:{port}"

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        with self.lock:
            self.failures.extend([status] * count)

    def sent(self, path_suffix: str = "") -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.path.endswith(path_suffix)]

    def texts(self) -> list[str]:
        out = []
        for r in self.sent():
            body = r.body if isinstance(r.body, dict) else {}
            text = body.get("text") or body.get("message") or body.get("caption")
            if isinstance(text, dict):
                text = text.get("body")
            if text:
                out.append(str(text))
        return out

    def start(self) -> StandInApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                ctype = self.headers.get("Content-Type", "")
                if "json" in ctype:
                    body: Any = json.loads(raw or b"{}")
                elif "multipart" in ctype:
                    body = _multipart(ctype, raw)
                elif "form" in ctype:
                    body = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
                else:
                    body = raw.decode(errors="replace")
                with api.lock:
                    api.requests.append(
                        Recorded("POST", self.path, dict(self.headers.items()), body)
                    )
                    number = len(api.requests)
                    status = api.failures.pop(0) if api.failures else 200
                if status != 200:
                    self._answer(status, {"ok": False, "error_code": status})
                elif self.path.endswith("/sendMessage"):
                    self._answer(200, {"ok": True, "result": {"message_id": number}})
                elif self.path.endswith("/sendDocument"):
                    self._answer(200, {"ok": True, "result": {"message_id": number}})
                elif self.path.endswith("/media"):
                    self._answer(200, {"id": f"media.{number}"})
                elif self.path.endswith(("/answerCallbackQuery", "/editMessageReplyMarkup")):
                    self._answer(200, {"ok": True, "result": True})
                elif self.path.endswith("/messages"):
                    self._answer(200, {"messages": [{"id": f"wamid.{number}"}]})
                elif self.path.endswith("/send_message"):
                    self._answer(200, {"status": 0, "message_token": number})
                elif self.path.endswith("/messages.send"):
                    self._answer(200, {"response": number})
                elif self.path.endswith("/docs.getMessagesUploadServer"):
                    # VK's upload address for the chat: here, back at this server.
                    upload = f"{api.base_url}{VK_UPLOAD_PATH}?peer_id={body.get('peer_id', '')}"
                    self._answer(200, {"response": {"upload_url": upload}})
                elif self.path.startswith(VK_UPLOAD_PATH):
                    uploaded = body.get("file") if isinstance(body, dict) else None
                    if isinstance(uploaded, dict):
                        self._answer(200, {"file": f"upload.{number}"})
                    else:
                        self._answer(200, {"error": "no_file"})
                elif self.path.endswith("/docs.save"):
                    self._answer(
                        200,
                        {
                            "response": {
                                "type": "doc",
                                "doc": {
                                    "id": number,
                                    "owner_id": VK_DOC_OWNER_ID,
                                    "title": body.get("title", ""),
                                },
                            }
                        },
                    )
                else:
                    self._answer(404, {"ok": False})

            def _answer(self, status: int, data: dict) -> None:
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def _multipart(ctype: str, raw: bytes) -> dict[str, Any]:
    """A multipart body as {field: value} with each file as {"file_name", "size", "content"}."""
    from email.parser import BytesParser
    from email.policy import HTTP

    parsed = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + raw)
    body: dict[str, Any] = {}
    for part in parsed.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        file_name = part.get_filename()
        if file_name:
            body[str(name)] = {"file_name": file_name, "size": len(payload), "content": payload}
        else:
            text = payload.decode(errors="replace") if isinstance(payload, bytes) else str(payload)
            body[str(name)] = text
    return body


def telegram_update(
    update_id: int, chat_id: int, text: str = "", *, contact_phone: str = "", **extra: Any
) -> dict[str, Any]:
    """A Telegram Update with a message, as the Bot API sends it (synthetic data)."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Тест", "language_code": "ru"}
    message: dict[str, Any] = {
        "message_id": update_id,
        "from": user,
        "chat": {"id": chat_id, "type": "private", "first_name": "Тест"},
        "date": 1_700_000_000 + update_id,
    }
    if text:
        message["text"] = text
    if contact_phone:
        message["contact"] = {
            "phone_number": contact_phone,
            "first_name": "Тест",
            "user_id": chat_id,
        }
    message.update(extra)
    return {"update_id": update_id, "message": message}


def telegram_callback(
    update_id: int, chat_id: int, data: str, *, message_id: int = 1
) -> dict[str, Any]:
    """A Telegram Update with a callback_query: a tap on an inline button (synthetic data)."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Тест", "language_code": "ru"}
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cb{update_id}",
            "from": user,
            "message": {
                "message_id": message_id,
                "chat": {"id": chat_id, "type": "private", "first_name": "Тест"},
                "date": 1_700_000_000 + update_id,
            },
            "chat_instance": "1",
            "data": data,
        },
    }
