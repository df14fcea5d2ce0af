"""Regulation 002's questionnaire inside the Telegram chat, as buttons.

After a service, quality's invitation (and its one reminder) calls `on_invite` through the hook
quality offers (`quality.hooks`): each Telegram conversation of the request or its client gets the
first unanswered question with buttons 1..5 under it. A tap arrives as a callback_query through
the webhook; `handle_callback` stores it in the same evaluation as the web form (a draft until
the end), marks the chosen button, answers the tap and asks the next question. After the seven
scores and the «more practice / more theory / enough» choice, one free-text message (or "Skip")
with the impressions and wishes submits the evaluation.

Every outgoing call is a row of the one outbox. A question is queued once per evaluation,
conversation and step (its idempotency key), so a double tap stores once and asks once. The
buttons' data is signed with the conversation in it: a forged or another chat's button is
refused. The answers are never lines of the conversation's history (the consultant sees only
aggregates).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from opora.messengers.adapters import Button
from opora.messengers.models import Conversation, MessengerChannel, OutgoingChatMessage
from opora.messengers.services import outbound_enqueue, outbound_enqueue_action
from opora.quality import hooks
from opora.quality.models import Evaluation
from opora.quality.services import (
    AlreadySubmitted,
    WindowClosed,
    evaluation_answer_one,
    evaluation_finish,
)
from opora.quality.texts import THANKS

if TYPE_CHECKING:
    from opora.messengers.bot import Dialogue

logger = logging.getLogger("opora.messengers")

PREFIX = "qe"
SKIP = "skip"
SIG_CHARS = 12
TEXT_MAX = 2000


def _sign(conversation_id: int, evaluation_id: int, item: str, value: str) -> str:
    message = f"quality:{conversation_id}:{evaluation_id}:{item}:{value}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:SIG_CHARS]


def button_data(conversation_id: int, evaluation_id: int, item: str, value: str) -> str:
    """The callback data of one answer button (under Telegram's 64 bytes)."""
    sig = _sign(conversation_id, evaluation_id, item, value)
    return f"{PREFIX}:{evaluation_id}:{item}:{value}:{sig}"


def _buttons(
    conversation: Conversation, evaluation: Evaluation, step: hooks.Step, chosen: str = ""
) -> list[list[Button]]:
    def button(value: str, label: str) -> Button:
        text = f"✓ {label}" if value == chosen else label
        return Button(text, data=button_data(conversation.pk, evaluation.pk, step.name, value))

    if step.is_text:
        return [
            [Button(_("Skip"), data=button_data(conversation.pk, evaluation.pk, step.name, SKIP))]
        ]
    if len(step.options) == 5:  # the 1–5 scale: one row
        return [[button(value, label) for value, label in step.options]]
    return [[button(value, label)] for value, label in step.options]


def _question_text(step: hooks.Step, total: int) -> str:
    if step.is_text:
        return "\n".join(
            [
                f"{step.number}/{total}. {step.prompt}",
                _("Write them in one message, or press “Skip”."),
            ]
        )
    return f"{step.number}/{total}. {step.prompt}"


def ask_next(conversation: Conversation, evaluation: Evaluation, *, again: bool = False) -> int:
    """Queue the evaluation's next question to the chat, once per step (`again`: the reminder
    asks it once more). Returns the messages queued."""
    step = hooks.next_step(evaluation)
    if step is None:
        return 0
    total = len(hooks.steps())
    lines = []
    if step.number == 1:
        lines.append(
            _("Please rate the remote consultation on a 5-point scale (1 — lowest, 5 — highest).")
        )
    lines.append(_question_text(step, total))
    suffix = ":again" if again else ""
    outbound_enqueue(
        conversation=conversation,
        text="\n".join(lines),
        buttons=_buttons(conversation, evaluation, step),
        key=f"quality:{evaluation.pk}:{conversation.pk}:{step.name}{suffix}",
    )
    if step.is_text:
        Conversation.objects.filter(pk=conversation.pk).update(
            state=Conversation.State.QUALITY_TEXT, draft={"evaluation": evaluation.pk}
        )
        conversation.state = Conversation.State.QUALITY_TEXT
        conversation.draft = {"evaluation": evaluation.pk}
    return 1


def conversations_of(evaluation: Evaluation, *, reminder: bool) -> list[Conversation]:
    request = evaluation.request
    match = Q(request_id=request.pk)
    if request.client_id:
        match |= Q(client_id=request.client_id)
    found = Conversation.objects.filter(
        match, account__is_active=True, account__channel=MessengerChannel.TELEGRAM
    ).select_related("account")
    if reminder:
        found = found.filter(reminders_enabled=True)
    return list(found.order_by("pk"))


def on_invite(evaluation: Evaluation, reminder: bool) -> int:
    """quality's invitation listener: the questionnaire into every Telegram chat of the client."""
    if not hooks.is_open(evaluation):
        return 0
    queued = 0
    for conversation in conversations_of(evaluation, reminder=reminder):
        with translation.override(conversation.language or settings.LANGUAGE_CODE):
            queued += ask_next(conversation, evaluation, again=reminder)
    return queued


# --- the client's taps and text -----------------------------------------------------------------


def _acknowledge(dialogue: Dialogue, text: str) -> None:
    message = dialogue.message
    outbound_enqueue_action(
        conversation=dialogue.conversation,
        method=OutgoingChatMessage.Method.ANSWER_CALLBACK,
        target_id=message.callback_id,
        text=text,
        key=f"callback:{dialogue.conversation.account_id}:{message.callback_id}",
    )


def _evaluation_of(dialogue: Dialogue, data: str) -> tuple[Evaluation, str, str] | None:
    """(evaluation, item, value) of genuine button data for this chat; None otherwise."""
    parts = data.split(":")
    if len(parts) != 5 or parts[0] != PREFIX or not parts[1].isdigit():
        return None
    _prefix, evaluation_id, item, value, sig = parts
    expected = _sign(dialogue.conversation.pk, int(evaluation_id), item, value)
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        return None
    evaluation = (
        Evaluation.objects.select_related("service", "request").filter(pk=evaluation_id).first()
    )
    if evaluation is None:
        return None
    conversation = dialogue.conversation
    request = evaluation.request
    if conversation.request_id != request.pk and not (
        request.client_id and conversation.client_id == request.client_id
    ):
        return None
    return evaluation, item, value


def _closed(dialogue: Dialogue, evaluation: Evaluation) -> None:
    _acknowledge(dialogue, _("The questionnaire is closed"))
    _leave_text_state(dialogue.conversation)
    outbound_enqueue(
        conversation=dialogue.conversation,
        text=hooks.closed_text(evaluation),
        key=f"quality:{evaluation.pk}:{dialogue.conversation.pk}:closed",
    )


def _leave_text_state(conversation: Conversation) -> None:
    if conversation.state == Conversation.State.QUALITY_TEXT:
        conversation.state = Conversation.State.IDLE
        conversation.draft = {}
        conversation.save(update_fields=["state", "draft"])


def _finish(dialogue: Dialogue, evaluation: Evaluation, impressions: str) -> None:
    conversation = dialogue.conversation
    try:
        _stored, first = evaluation_finish(evaluation=evaluation, impressions=impressions)
    except WindowClosed:
        _closed(dialogue, evaluation)
        return
    except ValidationError as err:
        # A score left out (answered through the web form and then cleared): ask for it.
        dialogue.say(" ".join(str(m) for m in err.messages))
        _leave_text_state(conversation)
        ask_next(conversation, Evaluation.objects.get(pk=evaluation.pk), again=True)
        return
    _leave_text_state(conversation)
    if first:
        outbound_enqueue(
            conversation=conversation,
            text=" ".join([str(THANKS), _("Your answers are not shown to your consultant.")]),
            key=f"quality:{evaluation.pk}:{conversation.pk}:thanks",
        )


def handle_callback(dialogue: Dialogue) -> None:
    """A tap on a button under a message. Always answered (Telegram shows a spinner until then)."""
    found = _evaluation_of(dialogue, dialogue.message.text.strip())
    if found is None:
        # Not a button of ours for this chat (forged, or another chat's): nothing is stored.
        _acknowledge(dialogue, _("This button is not valid any more."))
        return
    evaluation, item, value = found
    if item == hooks.TEXT_STEP:
        if value != SKIP:
            _acknowledge(dialogue, _("This button is not valid any more."))
            return
        _acknowledge(dialogue, _("Skipped"))
        _finish(dialogue, evaluation, "")
        return
    try:
        stored, changed = evaluation_answer_one(evaluation=evaluation, item=item, value=value)
    except WindowClosed:
        _closed(dialogue, evaluation)
        return
    except AlreadySubmitted as err:
        _acknowledge(dialogue, str(err.message))
        return
    except ValidationError as err:
        text = " ".join(str(m) for m in err.messages)
        _acknowledge(dialogue, text)
        dialogue.say(text)
        return
    _acknowledge(dialogue, _("Saved"))
    if not changed:
        return  # a double tap: stored once, asked once
    step = hooks.step_named(item)
    if step is not None and dialogue.message.callback_message_id:
        outbound_enqueue_action(
            conversation=dialogue.conversation,
            method=OutgoingChatMessage.Method.EDIT_BUTTONS,
            target_id=dialogue.message.callback_message_id,
            text=step.prompt,
            buttons=_buttons(dialogue.conversation, stored, step, chosen=value),
            key=f"quality-mark:{dialogue.update.pk}",
        )
    ask_next(dialogue.conversation, stored)


def handle_text(dialogue: Dialogue, text: str) -> None:
    """The impressions and wishes, in one message, end the questionnaire."""
    evaluation_id = dialogue.conversation.draft.get("evaluation")
    evaluation = (
        Evaluation.objects.select_related("service", "request").filter(pk=evaluation_id).first()
        if isinstance(evaluation_id, int)
        else None
    )
    if evaluation is None:
        _leave_text_state(dialogue.conversation)
        dialogue.free_text()
        return
    if not text:
        dialogue.say(_("Write them in one message, or press “Skip”."))
        return
    if len(text) > TEXT_MAX:
        dialogue.say(_("The answer is longer than %(max)d characters.") % {"max": TEXT_MAX})
        return
    if evaluation.submitted_at is not None:
        _leave_text_state(dialogue.conversation)
        dialogue.say(_("This questionnaire has already been sent. Thank you!"))
        return
    _finish(dialogue, evaluation, text)


def register() -> None:
    hooks.register_invite_listener(on_invite)
