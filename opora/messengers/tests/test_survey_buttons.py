"""A questionnaire a consultant assigns, answered inside the Telegram chat with buttons (against
the stand-in Bot API): one item at a time into the same response as the private link; scored
once at the last item, with the interpretation, the crisis contacts on a risk answer (the
service alerted) and the feedback link; double taps, forged and out-of-range buttons."""

import pytest

from opora.messengers.models import Conversation, ConversationMessage
from opora.messengers.survey_chat import button_data
from opora.messengers.testing import telegram_callback, telegram_update
from opora.notifications.models import Notification
from opora.scheduling.tests.factories import make_request
from opora.surveys.loader import load_shipped
from opora.surveys.models import Instrument, InstrumentVersion, Response, Result
from opora.surveys.services import RISK_KIND, assignment_create

pytestmark = pytest.mark.django_db

CHAT = 737373


class Chat:
    def __init__(self, webhook, account, stand_in):
        self.webhook, self.account, self.stand_in, self.n = webhook, account, stand_in, 5000

    def _post(self, payload):
        assert self.webhook.post(self.account, payload).status_code == 200

    def says(self, text):
        self.n += 1
        self._post(telegram_update(self.n, CHAT, text))

    def taps(self, data):
        self.n += 1
        self._post(telegram_callback(self.n, CHAT, data, message_id=self.n))
        return f"cb{self.n}"

    def messages(self):
        return [r.body for r in self.stand_in.sent("/sendMessage") if r.body["chat_id"] == CHAT]

    def buttons(self):
        keyboard = self.messages()[-1]["reply_markup"]["inline_keyboard"]
        return [b for row in keyboard for b in row]

    def answered(self, callback_id):
        calls = [
            r.body
            for r in self.stand_in.sent("/answerCallbackQuery")
            if r.body["callback_query_id"] == callback_id
        ]
        assert len(calls) == 1
        return calls[0].get("text", "")


@pytest.fixture
def assigned(service, consultant, telegram, stand_in, webhook, django_capture_on_commit_callbacks):
    load_shipped(Instrument, InstrumentVersion)
    consultant.email = "consultant@example.test"
    consultant.save(update_fields=["email"])
    request = make_request(service)
    chat = Chat(webhook, telegram, stand_in)
    chat.says("/start")
    Conversation.objects.filter(external_chat_id=str(CHAT)).update(request=request)
    version = InstrumentVersion.objects.filter(instrument__code="phq-9").latest("number")
    with django_capture_on_commit_callbacks(execute=True):
        assignment = assignment_create(
            actor=consultant, service=service, version=version, request=request
        )
    return chat, assignment


def test_phq9_by_buttons_to_the_feedback_and_the_risk_alert(assigned, service):
    chat, assignment = assigned
    first = chat.messages()[-1]
    assert "1/9." in first["text"] and "PHQ-9" in first["text"]
    assert len(chat.buttons()) == 4  # 0–3
    for number in range(1, 9):
        chat.taps(chat.buttons()[0]["callback_data"])
        assert f"{number + 1}/9." in chat.messages()[-1]["text"]
    response = Response.objects.get(assignment=assignment)
    assert response.status == "draft" and response.answers == {str(n): 0 for n in range(1, 9)}
    chat.taps(chat.buttons()[1]["callback_data"])  # item 9 above 0: a risk answer
    result = Result.objects.get()
    assert result.total == 1 and result.risk is True
    feedback = chat.messages()[-1]["text"]
    assert "112" in feedback
    assert f"/s/survey/{assignment.token}/done/" in feedback
    alert = Notification.objects.get(kind=RISK_KIND, recipient="consultant@example.test")
    assert str(result.pk) == alert.subject_id
    # The answers are not lines of the conversation the consultant reads.
    conversation = Conversation.objects.get(external_chat_id=str(CHAT))
    assert list(
        ConversationMessage.objects.filter(conversation=conversation, direction="in").values_list(
            "text", flat=True
        )
    ) == ["/start"]
    # A tap after the end changes nothing.
    chat.taps(button_data(conversation.pk, assignment.pk, "1", "3"))
    assert Result.objects.count() == 1
    assert Response.objects.get(assignment=assignment).answers["1"] == 0


def test_double_tap_forged_and_out_of_range(assigned):
    chat, assignment = assigned
    conversation = Conversation.objects.get(external_chat_id=str(CHAT))
    data = chat.buttons()[2]["callback_data"]
    first, second = chat.taps(data), chat.taps(data)
    assert chat.answered(first) and chat.answered(second)
    assert Response.objects.get(assignment=assignment).answers == {"1": 2}
    assert len([m for m in chat.messages() if "2/9." in m["text"]]) == 1

    forged = button_data(conversation.pk, assignment.pk, "2", "3")[:-1] + "x"
    chat.taps(forged)
    callback = chat.taps(button_data(conversation.pk, assignment.pk, "2", "7"))
    assert "2" in chat.answered(callback)
    assert Response.objects.get(assignment=assignment).answers == {"1": 2}
