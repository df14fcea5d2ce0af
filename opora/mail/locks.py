"""Every row lock of the mail app, in one place (Saleor's `..._select_for_update()`).

Order when more than one is taken: the request first, then its letters.
"""

from __future__ import annotations

from django.db.models import QuerySet

from opora.intake.models import ServiceRequest
from opora.mail.models import InboundMessage


def service_request_select_for_update() -> QuerySet[ServiceRequest]:
    return ServiceRequest.objects.select_for_update()


def inbound_messages_select_for_update() -> QuerySet[InboundMessage]:
    return InboundMessage.objects.select_for_update()
