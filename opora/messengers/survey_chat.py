"""A questionnaire a consultant assigns (surveys) inside the Telegram chat, as buttons.

When the instrument's items are all answered by one choice (PHQ-9, GAD-7, PSS-10, the Parental
Stress Scale), each Telegram conversation of the request or its client gets them one by one
with a button per option; a tap is kept in the same response as the private link's form (a
draft until the last item), which is then scored once: the chat gets the interpretation for the
client, the crisis contacts on a risk answer (the service is alerted by surveys at once) and
the link to the feedback page with booking. Buttons are signed with the conversation in them, as
in `quality_chat`; a double tap stores once and asks once.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from opora.consultations.crisis import emergency_numbers
from opora.core.errors import DomainError
from opora.core.links import public_url
from opora.messengers.adapters import Button
from opora.messengers.models import Conversation, MessengerChannel, OutgoingChatMessage
from opora.messengers.services import outbound_enqueue, outbound_enqueue_action
from opora.surveys import hooks, scoring
from opora.surveys.models import Assignment, Response
from opora.surveys.services import response_answer_one, response_submit

if TYPE_CHECKING:
    from opora.messengers.bot import Dialogue

PREFIX = "sv"
SIG_CHARS = 12


def _sign(conversation_id: int, assignment_id: int, item: str, value: str) -> str:
    message = f"survey:{conversation_id}:{assignment_id}:{item}:{value}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:SIG_CHARS]


def button_data(conversation_id: int, assignment_id: int, item: str, value: str) -> str:
    sig = _sign(conversation_id, assignment_id, item, value)
    return f"{PREFIX}:{assignment_id}:{item}:{value}:{sig}"


def _language(conversation: Conversation, definition: dict[str, Any]) -> str:
    wanted = conversation.language or settings.LANGUAGE_CODE
    languages = definition.get("languages") or []
    return wanted if not languages or wanted in languages else str(languages[0])


def ask_next(conversation: Conversation, assignment: Assignment) -> int:
    definition = assignment.version.definition
    items = hooks.chat_items(definition)
    if items is None:
        return 0
    response = Response.objects.filter(assignment=assignment).first()
    answers = response.answers if response is not None else {}
    if response is not None and response.status == Response.Status.SUBMITTED:
        return 0
    position, item = next(
        ((n, i) for n, i in enumerate(items, start=1) if str(i["number"]) not in answers),
        (0, None),
    )
    if item is None:
        return 0
    shown_in = _language(conversation, definition)
    number = str(item["number"])
    lines = []
    if position == 1:
        lines.append(scoring.localized(definition.get("title"), shown_in))
        lines.append(scoring.localized(definition.get("instructions"), shown_in))
    lines.append(f"{position}/{len(items)}. {scoring.localized(item.get('text'), shown_in)}")
    buttons = [
        [
            Button(
                f"{o['value']} — {scoring.localized(o.get('label'), shown_in)}",
                data=button_data(conversation.pk, assignment.pk, number, str(o["value"])),
            )
        ]
        for o in scoring.item_options(definition, item)
    ]
    outbound_enqueue(
        conversation=conversation,
        text="\n".join(line for line in lines if line),
        buttons=buttons,
        key=f"survey:{assignment.pk}:{conversation.pk}:{number}",
    )
    return 1


def on_assign(assignment: Assignment) -> int:
    """surveys' assignment listener: the questionnaire into the client's Telegram chats."""
    request = assignment.request
    if request is None or hooks.chat_items(assignment.version.definition) is None:
        return 0
    match = Q(request_id=request.pk)
    if request.client_id:
        match |= Q(client_id=request.client_id)
    queued = 0
    for conversation in Conversation.objects.filter(
        match, account__is_active=True, account__channel=MessengerChannel.TELEGRAM
    ).order_by("pk"):
        with translation.override(conversation.language or settings.LANGUAGE_CODE):
            queued += ask_next(conversation, assignment)
    return queued


def _acknowledge(dialogue: Dialogue, text: str) -> None:
    outbound_enqueue_action(
        conversation=dialogue.conversation,
        method=OutgoingChatMessage.Method.ANSWER_CALLBACK,
        target_id=dialogue.message.callback_id,
        text=text,
        key=f"callback:{dialogue.conversation.account_id}:{dialogue.message.callback_id}",
    )


def _assignment_of(dialogue: Dialogue, data: str) -> tuple[Assignment, str, str] | None:
    parts = data.split(":")
    if len(parts) != 5 or parts[0] != PREFIX or not parts[1].isdigit():
        return None
    _prefix, assignment_id, item, value, sig = parts
    expected = _sign(dialogue.conversation.pk, int(assignment_id), item, value)
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        return None
    assignment = (
        Assignment.objects.select_related("version__instrument", "service", "request")
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None or assignment.request is None:
        return None
    conversation, request = dialogue.conversation, assignment.request
    if conversation.request_id != request.pk and not (
        request.client_id and conversation.client_id == request.client_id
    ):
        return None
    return assignment, item, value


def _feedback(dialogue: Dialogue, assignment: Assignment) -> None:
    response = Response.objects.select_related("result").get(assignment=assignment)
    result = response.result
    band = result.band_definition() or {}
    language = dialogue.conversation.language or settings.LANGUAGE_CODE
    lines = [
        _("Thank you! Your result: %(band)s.")
        % {"band": scoring.localized(band.get("label"), language)},
        scoring.localized(band.get("client_text"), language),
    ]
    if result.risk:
        lines.append(_("If you are in danger or thinking of harming yourself, call now:"))
        lines += [
            f"{number} — {label}" for number, label in emergency_numbers(assignment.service.country)
        ]
        if assignment.service.public_phone:
            lines.append(f"{assignment.service.display_name}: {assignment.service.public_phone}")
    link = public_url(reverse("surveys:done", args=[assignment.token]))
    lines.append(_("Your feedback and booking a consultation: %(link)s") % {"link": link})
    outbound_enqueue(
        conversation=dialogue.conversation,
        text="\n".join(line for line in lines if line),
        key=f"survey:{assignment.pk}:{dialogue.conversation.pk}:feedback",
    )


def handle_callback(dialogue: Dialogue) -> None:
    found = _assignment_of(dialogue, dialogue.message.text.strip())
    if found is None:
        _acknowledge(dialogue, _("This button is not valid any more."))
        return
    assignment, item, raw = found
    value: Any = int(raw) if raw.lstrip("-").isdigit() else raw
    try:
        response, changed = response_answer_one(assignment=assignment, item=item, value=value)
    except scoring.AnswerError as err:
        _acknowledge(dialogue, err.message)
        dialogue.say(err.message)
        return
    except DomainError as err:  # the link has expired
        _acknowledge(dialogue, str(err.message))
        dialogue.say(str(err.message))
        return
    if response.status == Response.Status.SUBMITTED:
        _acknowledge(dialogue, _("This questionnaire has already been sent. Thank you!"))
        return
    _acknowledge(dialogue, _("Saved"))
    if not changed:
        return
    if dialogue.message.callback_message_id:
        definition = assignment.version.definition
        shown_in = _language(dialogue.conversation, definition)
        item_def = next(i for i in scoring.items(definition) if str(i["number"]) == item)
        outbound_enqueue_action(
            conversation=dialogue.conversation,
            method=OutgoingChatMessage.Method.EDIT_BUTTONS,
            target_id=dialogue.message.callback_message_id,
            text=item,
            buttons=[
                [
                    Button(
                        ("✓ " if o["value"] == value else "")
                        + f"{o['value']} — {scoring.localized(o.get('label'), shown_in)}",
                        data=button_data(
                            dialogue.conversation.pk, assignment.pk, item, str(o["value"])
                        ),
                    )
                ]
                for o in scoring.item_options(definition, item_def)
            ],
            key=f"survey-mark:{dialogue.update.pk}",
        )
    items = hooks.chat_items(assignment.version.definition) or []
    if all(str(i["number"]) in response.answers for i in items):
        response_submit(
            assignment=assignment,
            answers=response.answers,
            submit_key=f"chat:{assignment.pk}",
        )
        _feedback(dialogue, assignment)
        return
    ask_next(dialogue.conversation, assignment)


def register() -> None:
    hooks.register_assign_listener(on_assign)
