"""The row locks of intake, in one place (every `select_for_update` of the app is here).

Each function returns a queryset that locks the rows it reads; the caller narrows it (`.get()`,
`.filter()`, `.select_related()`) inside its own transaction.
"""

from __future__ import annotations

from django.db.models import QuerySet

from opora.intake.models import Client, ConsentRecord, Referral, ServiceRequest


def client_qs_select_for_update() -> QuerySet[Client]:
    return Client.objects.select_for_update()


def referral_qs_select_for_update() -> QuerySet[Referral]:
    return Referral.objects.select_for_update()


def service_request_qs_select_for_update() -> QuerySet[ServiceRequest]:
    return ServiceRequest.objects.select_for_update()


def consent_record_qs_select_for_update() -> QuerySet[ConsentRecord]:
    return ConsentRecord.objects.select_for_update()
