"""Every row lock of the messengers app, in one place (Saleor's `..._select_for_update()`).

Order when more than one is taken: the inbound update first, then its conversation.
Outgoing chat messages are claimed by the one outbox (notifications.locks).
"""

from __future__ import annotations

from django.db.models import QuerySet

from opora.messengers.models import Conversation, InboundUpdate


def inbound_update_select_for_update() -> QuerySet[InboundUpdate]:
    return InboundUpdate.objects.select_for_update()


def conversation_select_for_update() -> QuerySet[Conversation]:
    return Conversation.objects.select_for_update()
