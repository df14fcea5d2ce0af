"""What other apps add to events without events importing them (apps of a higher layer register
here in their `AppConfig.ready`): the messengers app fans an announcement out to its subscribers."""

from __future__ import annotations

from collections.abc import Callable

from opora.events.models import Event

# Each gets the announced event and returns how many recipients it queued a message for.
AnnouncementFanout = Callable[[Event], int]
_announcement_fanouts: list[AnnouncementFanout] = []


def register_announcement_fanout(fanout: AnnouncementFanout) -> None:
    if fanout not in _announcement_fanouts:
        _announcement_fanouts.append(fanout)


def announcement_fanout(event: Event) -> dict[str, int]:
    """Run every registered fan-out: {its module: recipients queued}."""
    return {f.__module__: f(event) for f in _announcement_fanouts}
