"""Janus (Debian's `janus`, the VideoRoom plugin): one room per event, created by Opora.

Configured from the environment:
- `OPORA_JANUS_URL`: the HTTP API Opora talks to (e.g. http://127.0.0.1:8088/janus); unset means
  no Janus — the 1:1 room works as before and an event's room says the group room is unavailable;
- `OPORA_JANUS_PUBLIC_URL`: what the browser connects to (default: the same URL);
- `OPORA_JANUS_ADMIN_SECRET`: the `admin_key` of janus.plugin.videoroom.jcfg, needed to create rooms.

Each room has a secret (`Event.room_secret`, known only to Opora) and a list of allowed tokens
(`allowed`): a browser without a token Opora gave it is refused by Janus itself, not only by the
page. Participants' audio is muted by Janus (`moderate`) until the lead lets them speak.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import urllib.request
from typing import Any

from opora.events.models import Event

logger = logging.getLogger(__name__)
TIMEOUT = 5


def url() -> str:
    return os.environ.get("OPORA_JANUS_URL", "").strip()


def public_url() -> str:
    return os.environ.get("OPORA_JANUS_PUBLIC_URL", "").strip() or url()


def available() -> bool:
    return bool(url())


def participant_token(event: Event, who: str) -> str:
    """The token one participant joins with (derived from the room secret: nothing to store)."""
    return hmac.new(
        event.room_secret.encode(), f"{event.pk}:{who}".encode(), hashlib.sha256
    ).hexdigest()[:32]


def participant_feed(event: Event, who: str) -> int:
    """The Janus feed id one participant publishes as (the page joins with it): derived from the
    room secret, so the server knows whose feed it is without trusting what a page says, and
    another participant cannot compute it. 48 bits (exact in the browser's JSON), never 0."""
    digest = hmac.new(
        event.room_secret.encode(), f"feed:{event.pk}:{who}".encode(), hashlib.sha256
    ).hexdigest()
    return int(digest[:12], 16) or 1


class JanusError(Exception):
    pass


def _post(path: str, body: dict[str, Any]) -> dict[str, Any]:
    body = {"transaction": secrets.token_hex(6), **body}
    request = urllib.request.Request(  # noqa: S310 (a configured http(s) URL)
        url().rstrip("/") + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
        answer = json.loads(response.read())
    if answer.get("janus") == "error":
        raise JanusError(answer.get("error", {}).get("reason", "error"))
    return answer


def _videoroom(message: dict[str, Any]) -> dict[str, Any]:
    """One request to the VideoRoom plugin in a throwaway session."""
    session = _post("", {"janus": "create"})["data"]["id"]
    try:
        handle = _post(f"/{session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"})
        answer = _post(f"/{session}/{handle['data']['id']}", {"janus": "message", "body": message})
        data = answer.get("plugindata", {}).get("data", {})
        if data.get("error"):
            raise JanusError(str(data.get("error")))
        return data
    finally:
        try:
            _post(f"/{session}", {"janus": "destroy"})
        except Exception:  # noqa: BLE001 (the session times out on its own)
            logger.info("janus session not destroyed")


def room_ensure(event: Event, tokens: list[str]) -> None:
    """Create the event's room (or bring its allowed tokens up to date)."""
    room = event.room_id
    exists = _videoroom({"request": "exists", "room": room}).get("exists")
    if not exists:
        _videoroom(
            {
                "request": "create",
                "room": room,
                "admin_key": os.environ.get("OPORA_JANUS_ADMIN_SECRET", ""),
                "secret": event.room_secret,
                "description": f"event {event.pk}",
                "publishers": 20,
                "allowed": tokens,
                "is_private": True,
                "audiolevel_event": True,
            }
        )
        return
    _videoroom(
        {
            "request": "allowed",
            "room": room,
            "secret": event.room_secret,
            "action": "add",
            "allowed": tokens,
        }
    )


def moderate(event: Event, *, feed: int, mid: str, mute: bool) -> None:
    """Mute or unmute one stream of a participant in Janus (the lead lets them speak)."""
    _videoroom(
        {
            "request": "moderate",
            "room": event.room_id,
            "secret": event.room_secret,
            "id": feed,
            "mid": mid,
            "mute": mute,
        }
    )


def kick(event: Event, *, feed: int) -> None:
    _videoroom({"request": "kick", "room": event.room_id, "secret": event.room_secret, "id": feed})


def client_config(event: Event, *, publisher: bool, display: str, who: str) -> dict[str, Any]:
    """What the room page's script needs (no secret: only this participant's token and the feed
    id it must publish as)."""
    if not available():
        return {}
    return {
        "server": public_url(),
        "room": event.room_id,
        "display": display[:100],
        "publisher": publisher,
        "feed": participant_feed(event, who),
    }
