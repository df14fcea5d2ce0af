"""A channel-neutral way to put an assigned questionnaire into a chat, one item at a time.

surveys knows no messenger: a higher app (messengers: the Telegram bot's buttons) registers an
assignment listener from its AppConfig.ready, asks `chat_items` what to show, and stores each
tap through `services.response_answer_one` and, after the last item, `services.response_submit`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from opora.surveys import scoring
from opora.surveys.models import Assignment

# (assignment) -> how many messages were queued.
AssignListener = Callable[[Assignment], int]
_listeners: list[AssignListener] = []


def register_assign_listener(listener: AssignListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def assign_listeners_run(assignment: Assignment) -> int:
    """Called inside the assignment's transaction; returns the messages queued."""
    return sum(listener(assignment) for listener in list(_listeners))


def chat_items(definition: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The items, when every one is answered by one choice (scale or single): a chat can ask
    them as buttons. None otherwise (multiple choice or free text: the link is the way)."""
    found = scoring.items(definition)
    if not found or any(i.get("type") not in scoring.SCORED_TYPES for i in found):
        return None
    return found
