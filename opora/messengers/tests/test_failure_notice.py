"""A technical failure reaches the client's messenger: first that a new time is coming, then the
new time once the head sets it (regulation 002 §4.2.1: the client is told at once)."""

import datetime as dt

import pytest

from opora.accounts.models import Role
from opora.consultations import services
from opora.consultations.tests.factories import make_live_consultation
from opora.demo.factories import make_user
from opora.messengers.models import Conversation
from opora.messengers.tests.conftest import make_account
from opora.notifications.models import Notification
from opora.scheduling.tests.factories import future_working_day, make_slot

pytestmark = pytest.mark.django_db


def test_the_clients_telegram_gets_the_wait_and_the_new_time(service, consultant, stand_in):
    account = make_account(service, "telegram", stand_in)
    head = make_user(Role.HEAD, service=service)
    live = make_live_consultation(service, consultant)
    chat = Conversation.objects.create(
        account=account, external_chat_id="555001", request=live.booking.request
    )
    later = make_slot(service, consultant, future_working_day(service), dt.time(16))
    failure = services.technical_failure_report(
        actor=consultant, consultation=live, cause="platform"
    )
    wait = Notification.objects.get(channel="telegram", kind="consultation_failed")
    assert wait.recipient == str(chat.pk) and wait.action_url and wait.action_url in wait.body
    services.technical_failure_accept(actor=head, failure=failure, slot=later)
    moved = Notification.objects.get(channel="telegram", kind="booking_rescheduled")
    assert moved.action_url
    assert later.starts_at.astimezone(service.tz).strftime("%H:%M") in moved.body
