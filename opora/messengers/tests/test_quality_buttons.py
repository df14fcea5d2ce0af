"""Regulation 002's questionnaire inside the Telegram chat as buttons, against a real HTTP server
standing in for the Bot API: the invitation puts the first question in the chat, each tap (a
callback_query through the webhook) is stored in the same evaluation as the web form, answered
and marked; a double tap stores and asks once; forged, foreign or out-of-range buttons are
refused; a late tap gets "the window closed" with the service's contacts."""

import datetime as dt

import pytest
from django.utils import timezone

from opora.messengers.models import Conversation, ConversationMessage, InboundUpdate
from opora.messengers.quality_chat import button_data
from opora.messengers.testing import telegram_callback, telegram_update
from opora.quality import services as quality
from opora.quality.models import Evaluation
from opora.quality.tests.factories import make_held_consultation

pytestmark = pytest.mark.django_db

CHAT = 515151
OTHER_CHAT = 626262


class Chat:
    def __init__(self, webhook, account, stand_in, chat_id=CHAT):
        self.webhook, self.account, self.stand_in, self.chat_id = (
            webhook,
            account,
            stand_in,
            chat_id,
        )
        self.n = 1000 + chat_id % 1000 * 100

    def _post(self, payload):
        response = self.webhook.post(self.account, payload)
        assert response.status_code == 200

    def says(self, text):
        self.n += 1
        self._post(telegram_update(self.n, self.chat_id, text))

    def taps(self, data, message_id=1):
        self.n += 1
        self._post(telegram_callback(self.n, self.chat_id, data, message_id=message_id))
        return f"cb{self.n}"

    def messages(self):
        return [
            r.body for r in self.stand_in.sent("/sendMessage") if r.body["chat_id"] == self.chat_id
        ]

    def last(self):
        return self.messages()[-1]

    def buttons(self, message=None):
        message = message or self.last()
        return [b for row in message["reply_markup"]["inline_keyboard"] for b in row]

    def answered(self, callback_id):
        calls = [
            r.body
            for r in self.stand_in.sent("/answerCallbackQuery")
            if r.body["callback_query_id"] == callback_id
        ]
        assert len(calls) == 1
        return calls[0].get("text", "")


@pytest.fixture
def invited(service, consultant, telegram, stand_in, webhook, django_capture_on_commit_callbacks):
    """A consultation held for a request whose client writes to the bot; the invitation sent."""
    service.public_phone = "+7 727 000 00 00"
    service.save()
    held = make_held_consultation(service, consultant, email="parent@example.org")
    request = held.booking.request
    chat = Chat(webhook, telegram, stand_in)
    chat.says("/start")
    Conversation.objects.filter(external_chat_id=str(CHAT)).update(request=request)
    evaluation = quality.evaluation_open(request=request)
    assert evaluation is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert quality.evaluation_invite(evaluation=evaluation) >= 2  # the e-mail and the chat
    return chat, Evaluation.objects.get(pk=evaluation.pk)


def _question(chat, number):
    found = [m for m in chat.messages() if f"{number}/9." in m["text"]]
    return found


def test_the_whole_questionnaire_by_buttons(invited, stand_in):
    chat, evaluation = invited
    first = chat.last()
    assert "1/9." in first["text"]
    scale = chat.buttons(first)
    assert [b["text"] for b in scale] == ["1", "2", "3", "4", "5"]
    assert all(len(b["callback_data"].encode()) <= 64 for b in scale)

    callback = chat.taps(scale[3]["callback_data"], message_id=77)
    evaluation.refresh_from_db()
    assert evaluation.q1 == 4 and evaluation.submitted_at is None  # a draft
    assert chat.answered(callback)
    edit = stand_in.sent("/editMessageReplyMarkup")[-1].body
    assert edit["message_id"] == 77 and edit["chat_id"] == CHAT
    marked = [b["text"] for row in edit["reply_markup"]["inline_keyboard"] for b in row]
    assert marked == ["1", "2", "3", "✓ 4", "5"]
    assert "2/9." in chat.last()["text"]

    for number in range(2, 8):
        chat.taps(chat.buttons()[4]["callback_data"])
        assert f"{number + 1}/9." in chat.last()["text"]
    choices = chat.buttons()
    assert len(choices) == 3  # more practice / more theory / enough
    chat.taps(choices[0]["callback_data"])
    text_step = chat.last()
    assert "9/9." in text_step["text"]
    assert len(chat.buttons(text_step)) == 1  # "Skip"
    assert Conversation.objects.get(external_chat_id=str(CHAT)).state == "quality_text"

    chat.says("Спасибо, всё было понятно")
    evaluation.refresh_from_db()
    assert evaluation.submitted_at is not None
    assert evaluation.scores() == [4, 5, 5, 5, 5, 5, 5]
    assert evaluation.more_of == "practice"
    assert evaluation.impressions == "Спасибо, всё было понятно"
    conversation = Conversation.objects.get(external_chat_id=str(CHAT))
    assert conversation.state == "" and conversation.draft == {}
    # The consultant reads the conversation: none of the answers is a line of it, nor kept in
    # the stored updates.
    history = list(
        ConversationMessage.objects.filter(conversation=conversation, direction="in").values_list(
            "text", flat=True
        )
    )
    assert history == ["/start"]
    assert not any(
        "всё было понятно" in (u.payload.get("text") or "") or "qe:" in u.payload.get("text", "")
        for u in InboundUpdate.objects.all()
    )

    # Tapping after the end stores nothing more.
    callback = chat.taps(button_data(conversation.pk, evaluation.pk, "q1", "1"))
    assert chat.answered(callback)
    evaluation.refresh_from_db()
    assert evaluation.q1 == 4


def test_a_double_tap_stores_once_and_asks_once(invited):
    chat, evaluation = invited
    data = chat.buttons()[2]["callback_data"]
    first, second = chat.taps(data), chat.taps(data)
    assert chat.answered(first) and chat.answered(second)
    evaluation.refresh_from_db()
    assert evaluation.q1 == 3
    assert len(_question(chat, 2)) == 1


def test_changing_an_earlier_answer_keeps_the_draft(invited):
    chat, evaluation = invited
    first_question = chat.buttons()
    chat.taps(first_question[0]["callback_data"])
    chat.taps(first_question[4]["callback_data"])  # the client changes their mind
    evaluation.refresh_from_db()
    assert evaluation.q1 == 5
    assert len(_question(chat, 2)) == 1


def test_forged_and_out_of_range_buttons_are_refused(invited, telegram, stand_in, webhook):
    chat, evaluation = invited
    conversation = Conversation.objects.get(external_chat_id=str(CHAT))
    genuine = chat.buttons()[0]["callback_data"]
    before = len(chat.messages())

    forged = genuine[:-1] + ("0" if genuine[-1] != "0" else "1")  # the signature broken
    callback = chat.taps(forged)
    assert chat.answered(callback)
    changed_value = genuine.replace(":q1:1:", ":q1:5:")  # the value changed, the signature kept
    chat.taps(changed_value)
    chat.taps("qe:1:q1")  # malformed
    evaluation.refresh_from_db()
    assert evaluation.q1 is None
    assert len(chat.messages()) == before

    # Signed for this chat, but out of range: refused naming the item.
    callback = chat.taps(button_data(conversation.pk, evaluation.pk, "q1", "7"))
    assert "1" in chat.answered(callback) and "5" in chat.answered(callback)
    evaluation.refresh_from_db()
    assert evaluation.q1 is None
    assert "1" in chat.last()["text"] and "5" in chat.last()["text"]
    callback = chat.taps(button_data(conversation.pk, evaluation.pk, "more_of", "nothing"))
    evaluation.refresh_from_db()
    assert evaluation.more_of == ""

    # Another chat replaying this chat's button: refused.
    other = Chat(webhook, telegram, stand_in, chat_id=OTHER_CHAT)
    other.says("/start")
    callback = other.taps(genuine)
    assert other.answered(callback)
    evaluation.refresh_from_db()
    assert evaluation.q1 is None


def test_a_tap_after_the_window_gets_the_contacts(invited, service):
    chat, evaluation = invited
    data = chat.buttons()[4]["callback_data"]
    past = timezone.now() - dt.timedelta(days=5)
    Evaluation.objects.filter(pk=evaluation.pk).update(
        served_at=past, closes_at=past + dt.timedelta(days=3)
    )
    callback = chat.taps(data)
    assert chat.answered(callback)
    evaluation.refresh_from_db()
    assert evaluation.q1 is None
    closed = chat.last()
    assert "Анкета закрыта" in closed["text"]
    assert service.public_phone in closed["text"]
    assert "reply_markup" not in closed  # a plain message
    chat.taps(data)
    assert [m["text"] for m in chat.messages()].count(closed["text"]) == 1


def test_skip_submits_without_text_and_the_reminder_asks_again(
    invited, django_capture_on_commit_callbacks
):
    chat, evaluation = invited
    for _number in range(7):
        chat.taps(chat.buttons()[2]["callback_data"])
    # The reminder (the evaluation still unanswered) asks the next question once more.
    Evaluation.objects.filter(pk=evaluation.pk).update(
        invited_at=timezone.now() - dt.timedelta(hours=49)
    )
    with django_capture_on_commit_callbacks(execute=True):
        quality.evaluation_remind(evaluation=Evaluation.objects.get(pk=evaluation.pk))
    assert len(_question(chat, 8)) == 2
    chat.taps(chat.buttons()[2]["callback_data"])
    skip = chat.buttons()
    assert len(skip) == 1
    chat.taps(skip[0]["callback_data"])
    evaluation.refresh_from_db()
    assert evaluation.submitted_at is not None and evaluation.impressions == ""
    assert evaluation.more_of == "enough"
    assert Conversation.objects.get(external_chat_id=str(CHAT)).state == ""
