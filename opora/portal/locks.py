"""The row locks of the portal, in one place (every `select_for_update` of the app is here).

Each function returns a queryset that locks the rows it reads; the caller narrows it inside its own
transaction.
"""

from __future__ import annotations

from django.db.models import QuerySet

from opora.intake.models import ServiceRequest
from opora.portal.models import ContactConfirmation


def service_request_qs_select_for_update() -> QuerySet[ServiceRequest]:
    """Only the request's own row (`of=self`): the rows joined by `select_related` stay free."""
    return ServiceRequest.objects.select_for_update(of=("self",))


def contact_confirmation_qs_select_for_update() -> QuerySet[ContactConfirmation]:
    return ContactConfirmation.objects.select_for_update()
