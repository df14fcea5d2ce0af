"""Delivery channels other apps plug in, so that notifications imports none of them.

A messenger app registers, from its AppConfig.ready:
- a *sender* per channel name: `register("telegram", sender)`; `sender(notification)` delivers
  one stored Notification (its `recipient` is whatever the app understands, e.g. a conversation
  id) and raises on failure, so the notification is retried;
- a *contact resolver*: `register_contacts(resolver)`; `resolver(subject_type, subject_id,
  recipient=..., kind=...)` returns the `(channel, recipient)` pairs through which the client of
  that subject (a booking, a request, ...) can also be told.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class ContactResolver(Protocol):
    def __call__(
        self,
        subject_type: str,
        subject_id: str,
        *,
        recipient: str | None,
        kind: str,
        hint: dict | None = None,
    ) -> list[tuple[str, str]]: ...


Sender = Callable[[Any], Any]

_senders: dict[str, Sender] = {}
_resolvers: list[ContactResolver] = []


def register(channel: str, sender: Sender) -> None:
    """Deliver notifications of `channel` with `sender` (the last registration wins)."""
    _senders[channel] = sender


def get_sender(channel: str) -> Sender | None:
    return _senders.get(channel)


def register_contacts(resolver: ContactResolver) -> None:
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def client_contacts(
    subject_type: str,
    subject_id: str,
    *,
    recipient: str | None = None,
    kind: str = "",
    hint: dict | None = None,
) -> list[tuple[str, str]]:
    """Extra (channel, recipient) pairs of the client a notice about this subject is for.

    With `recipient` (the phone or e-mail a notice is addressed to), resolvers answer only when it
    is the client's own contact: a notice to a head about the same booking is never copied to the
    client's messenger.
    """
    seen: list[tuple[str, str]] = []
    for resolver in _resolvers:
        for pair in resolver(subject_type, subject_id, recipient=recipient, kind=kind, hint=hint):
            if pair not in seen:
                seen.append(pair)
    return seen
