"""Reads of the mail app: the written requests an actor may see, a thread, the quarantine."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Min, Q, QuerySet

from opora.accounts import policy
from opora.accounts.models import User
from opora.accounts.policy import Action
from opora.consultations.models import Consultation
from opora.core.errors import NotFound, PermissionDenied
from opora.core.models import Service
from opora.intake.models import Channel, ServiceRequest
from opora.mail.models import Attachment, InboundMessage, OutgoingLetter
from opora.scheduling.calendar import local_day_bounds

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class WaitingAnnotations(TypedDict):
    first_received: dt.datetime
    due_on: dt.date | None


# A letter of the thread (registered or released from quarantine) that has no answer yet.
_WAITING = Q(
    inbound_messages__answered_by__isnull=True,
    inbound_messages__status__in=[InboundMessage.Status.REGISTERED, InboundMessage.Status.RELEASED],
)


def _sees_all(actor: User) -> bool:
    return policy.can(actor, Action.WRITTEN_ASSIGN)  # who reassigns sees every request


def written_requests(
    *, actor: User, service: Service, waiting_only: bool = True
) -> QuerySet[WithAnnotations[ServiceRequest, WaitingAnnotations]]:
    """E-mail requests of the service: a consultant's own, or all of them for the head.

    Each row carries `first_received` (the first letter's receipt) and `due_on` (the earliest
    deadline of a letter still waiting for an answer; None when all are answered).
    """
    qs = ServiceRequest.objects.filter(service=service, channel=Channel.EMAIL)
    if not _sees_all(actor):
        qs = qs.filter(assigned_to=actor)
    qs = qs.annotate(
        first_received=Min("inbound_messages__received_at"),
        due_on=Min("inbound_messages__due_on", filter=_WAITING),
    ).select_related("assigned_to")
    qs = qs.filter(first_received__isnull=False)
    if waiting_only:
        qs = qs.filter(due_on__isnull=False)
    return qs.order_by("due_on", "first_received", "pk")


def written_request_get(*, actor: User, service: Service, pk: int | str) -> ServiceRequest:
    """One written request the actor may open (NotFound / PermissionDenied otherwise)."""
    try:
        request = (
            ServiceRequest.objects.select_related("assigned_to", "service")
            .filter(service=service, channel=Channel.EMAIL)
            .get(pk=int(pk))
        )
    except (ServiceRequest.DoesNotExist, TypeError, ValueError):
        raise NotFound("written request") from None
    if not _sees_all(actor) and request.assigned_to_id != actor.pk:
        raise PermissionDenied("")
    return request


@dataclass
class ThreadItem:
    at: dt.datetime
    inbound: InboundMessage | None = None
    outbound: OutgoingLetter | None = None


def thread(*, request: ServiceRequest) -> list[ThreadItem]:
    """The letters and answers of a request in time order (quarantined letters are not in it)."""
    items = [
        ThreadItem(at=m.received_at, inbound=m)
        for m in InboundMessage.objects.filter(request=request)
        .exclude(status=InboundMessage.Status.QUARANTINED)
        .prefetch_related("attachments")
    ]
    items += [
        ThreadItem(at=o.created_at, outbound=o)
        for o in OutgoingLetter.objects.filter(request=request)
        .select_related("author")
        .prefetch_related("attachments")
    ]
    return sorted(items, key=lambda i: (i.at, i.outbound is not None))


def waiting_due_on(*, request: ServiceRequest) -> dt.date | None:
    """The earliest due day of the letters still waiting; None once answered — by a written
    answer, or by a booking letter (regulation 002 §3.2: date and time sent by the due day)."""
    due_on: dt.date | None = (
        InboundMessage.objects.filter(request=request, answered_by__isnull=True)
        .exclude(status=InboundMessage.Status.QUARANTINED)
        .aggregate(d=Min("due_on"))["d"]
    )
    if due_on is not None and booking_letter_sent(request=request, due_on=due_on):
        return None
    return due_on


def booking_letter_sent(*, request: ServiceRequest, due_on: dt.date) -> bool:
    """Regulation 002 §3.2: a letter with the date and time of a consultation, sent by the end
    of the due day (the booking notice goes out with the booking), answers the request."""
    end = local_day_bounds(request.service, due_on)[1]
    return request.bookings.filter(created_at__lt=end).exists()


def written_consultation(*, request: ServiceRequest) -> Consultation | None:
    """The consultation a consultant took this thread up as (one per request), if any."""
    return (
        Consultation.objects.filter(booking__request=request, form__in=["email", "messenger"])
        .select_related("booking__slot")
        .first()
    )


def attachment_get(*, actor: User, service: Service, pk: int | str) -> Attachment:
    try:
        attachment = Attachment.objects.select_related("message__request").get(
            pk=int(pk), message__request__service=service
        )
    except (Attachment.DoesNotExist, TypeError, ValueError):
        raise NotFound("attachment") from None
    request_id = attachment.message.request_id
    if request_id is None:  # excluded by the filter above (a quarantined letter's)
        raise NotFound("attachment")
    written_request_get(actor=actor, service=service, pk=request_id)
    return attachment


def quarantine(*, service: Service) -> QuerySet[InboundMessage]:
    return (
        InboundMessage.objects.filter(
            mailbox__service=service, status=InboundMessage.Status.QUARANTINED
        )
        .select_related("mailbox")
        .order_by("-received_at", "-pk")
    )


def quarantined_get(*, service: Service, pk: int | str) -> InboundMessage:
    try:
        return quarantine(service=service).get(pk=int(pk))
    except (InboundMessage.DoesNotExist, TypeError, ValueError):
        raise NotFound("letter") from None
