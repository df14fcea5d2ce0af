"""A channel-neutral way to put the questionnaire into a chat, one item at a time.

quality knows no messenger: a higher app (messengers: the Telegram bot's buttons) registers an
invitation listener from its AppConfig.ready, asks `steps()`/`next_step()` what to show, and
stores each tap through `services.evaluation_answer_one` / `services.evaluation_finish`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from opora.core.dates import human_date
from opora.quality.models import CRITERIA, CRITERION_FIELDS, SCALE, Evaluation, MoreOf
from opora.quality.texts import IMPRESSIONS, MORE_OF_QUESTION, WISHES

# (evaluation, reminder) -> how many messages were queued.
InviteListener = Callable[[Evaluation, bool], int]
_listeners: list[InviteListener] = []

TEXT_STEP = "impressions"
STEP_NAMES = (*CRITERION_FIELDS, "more_of", TEXT_STEP)


@dataclass(frozen=True)
class Step:
    """One question: `options` are (value, label); none for the free-text step."""

    name: str
    number: int
    prompt: str
    options: tuple[tuple[str, str], ...]

    @property
    def is_text(self) -> bool:
        return not self.options


def register_invite_listener(listener: InviteListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def invite_listeners_run(evaluation: Evaluation, *, reminder: bool) -> int:
    """Called inside the invitation's (or reminder's) transaction; returns the messages queued."""
    return sum(listener(evaluation, reminder) for listener in list(_listeners))


def steps() -> list[Step]:
    """The questionnaire's steps, in its order, in the active language."""
    found = [
        Step(name, number, str(label), tuple((str(v), str(v)) for v in SCALE))
        for number, (name, label) in enumerate(CRITERIA, start=1)
    ]
    found.append(
        Step(
            "more_of",
            len(found) + 1,
            str(MORE_OF_QUESTION),
            tuple((str(value), str(label)) for value, label in MoreOf.choices),
        )
    )
    found.append(Step(TEXT_STEP, len(found) + 1, f"{IMPRESSIONS}\n{WISHES}", ()))
    return found


def step_named(name: str) -> Step | None:
    return next((s for s in steps() if s.name == name), None)


def next_step(evaluation: Evaluation) -> Step | None:
    """The first unanswered step; the free-text step once the choices are all made; None when
    the evaluation is submitted."""
    if evaluation.submitted_at is not None:
        return None
    for step in steps():
        if step.is_text or not getattr(evaluation, step.name):
            return step
    return None  # pragma: no cover - the text step always remains


def is_open(evaluation: Evaluation, now: dt.datetime | None = None) -> bool:
    return evaluation.submitted_at is None and (now or timezone.now()) < evaluation.closes_at


def closed_text(evaluation: Evaluation) -> str:
    """What a late answer is told: the window closed, and how to reach the service."""
    service = evaluation.service
    until = human_date(
        timezone.localtime(evaluation.closes_at - dt.timedelta(seconds=1), service.tz)
    )
    lines = [
        _("The questionnaire is closed"),
        _(
            "It could be answered for three calendar days after the consultation, until "
            "%(until)s inclusive."
        )
        % {"until": until},
        _("To tell the service about your consultation, please contact it:"),
    ]
    if service.public_phone:
        lines.append(f"{_('Phone')}: {service.public_phone}")
    if service.public_email:
        lines.append(f"{_('E-mail')}: {service.public_email}")
    if not service.public_phone and not service.public_email:
        lines.append(service.display_name)
    return "\n".join(lines)
