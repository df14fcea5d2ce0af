"""Janus (Debian's `janus`, the VideoRoom plugin): one room per event, created by Opora.

Configured from the environment:
- `OPORA_JANUS_URL`: the HTTP API Opora talks to (e.g. http://127.0.0.1:8088/janus); unset means
  no Janus — the 1:1 room works as before and an event's room says the group room is unavailable;
- `OPORA_JANUS_PUBLIC_URL`: what the browser connects to (default: the same URL);
- `OPORA_JANUS_URLS` / `OPORA_JANUS_PUBLIC_URLS` (comma-separated, the same order): several Janus
  instances instead of one; each event's room lives on one of them, chosen by rendezvous hashing
  of the room id (`instance`), so adding or removing an instance moves only the rooms it gains or
  loses. They share `OPORA_JANUS_ADMIN_SECRET`;
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


def _list(name: str) -> list[str]:
    return [u.strip() for u in os.environ.get(name, "").split(",") if u.strip()]


def urls() -> list[str]:
    """The Janus instances' APIs: OPORA_JANUS_URLS, else the one OPORA_JANUS_URL."""
    return _list("OPORA_JANUS_URLS") or _list("OPORA_JANUS_URL")[:1]


def public_urls() -> list[str]:
    """What browsers connect to, instance by instance (default: the same URLs)."""
    public = _list("OPORA_JANUS_PUBLIC_URLS") or _list("OPORA_JANUS_PUBLIC_URL")[:1]
    internal = urls()
    return public if len(public) == len(internal) else internal


def instance(room_id: int, apis: list[str]) -> int:
    """Which of the instances (their API URLs) holds a room: rendezvous hashing — every instance
    scores the room and the highest score wins. Rooms spread evenly, and adding or removing an
    instance moves only the rooms that instance gains or loses (nothing else is stored)."""
    scores = [hashlib.sha256(f"{api}|{room_id}".encode()).digest()[:8] for api in apis]
    return max(range(len(apis)), key=scores.__getitem__)


def url(event: Event | None = None) -> str:
    """The API of the instance holding the event's room (the first instance without an event)."""
    apis = urls()
    if not apis:
        return ""
    return apis[instance(event.room_id, apis) if event is not None else 0]


def public_url(event: Event | None = None) -> str:
    """What the browser connects to for the event's room (the same instance as `url`)."""
    apis = urls()
    if not apis:
        return ""
    return public_urls()[instance(event.room_id, apis) if event is not None else 0]


def available() -> bool:
    return bool(urls())


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


def _post(base: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    body = {"transaction": secrets.token_hex(6), **body}
    request = urllib.request.Request(  # noqa: S310 (a configured http(s) URL)
        base.rstrip("/") + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
        answer = json.loads(response.read())
    if answer.get("janus") == "error":
        raise JanusError(answer.get("error", {}).get("reason", "error"))
    return answer


def _videoroom(event: Event, message: dict[str, Any]) -> dict[str, Any]:
    """One request to the VideoRoom plugin of the event's instance, in a throwaway session."""
    base = url(event)
    session = _post(base, "", {"janus": "create"})["data"]["id"]
    try:
        handle = _post(base, f"/{session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"})
        answer = _post(
            base, f"/{session}/{handle['data']['id']}", {"janus": "message", "body": message}
        )
        data = answer.get("plugindata", {}).get("data", {})
        if data.get("error"):
            raise JanusError(str(data.get("error")))
        return data
    finally:
        try:
            _post(base, f"/{session}", {"janus": "destroy"})
        except Exception:  # noqa: BLE001 (the session times out on its own)
            logger.info("janus session not destroyed")


def room_ensure(event: Event, tokens: list[str]) -> None:
    """Create the event's room (or bring its allowed tokens up to date)."""
    room = event.room_id
    exists = _videoroom(event, {"request": "exists", "room": room}).get("exists")
    if not exists:
        _videoroom(
            event,
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
            },
        )
        return
    _videoroom(
        event,
        {
            "request": "allowed",
            "room": room,
            "secret": event.room_secret,
            "action": "add",
            "allowed": tokens,
        },
    )


def moderate(event: Event, *, feed: int, mid: str, mute: bool) -> None:
    """Mute or unmute one stream of a participant in Janus (the lead lets them speak)."""
    _videoroom(
        event,
        {
            "request": "moderate",
            "room": event.room_id,
            "secret": event.room_secret,
            "id": feed,
            "mid": mid,
            "mute": mute,
        },
    )


def kick(event: Event, *, feed: int) -> None:
    _videoroom(
        event, {"request": "kick", "room": event.room_id, "secret": event.room_secret, "id": feed}
    )


def client_config(event: Event, *, publisher: bool, display: str, who: str) -> dict[str, Any]:
    """What the room page's script needs (no secret: only this participant's token and the feed
    id it must publish as)."""
    if not available():
        return {}
    return {
        "server": public_url(event),
        "room": event.room_id,
        "display": display[:100],
        "publisher": publisher,
        "feed": participant_feed(event, who),
    }
