"""«Доставка сообщений»: the head sees every delivery the one outbox gave up on, of every channel
(SMS, e-mail, messengers, written answers), with the reason, and may try it again.

No message body, no address: a row shows its channel, its kind, the request code, the attempts
and the last error (an exception's class or a provider's short reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from opora.accounts import policy
from opora.accounts.actors import Actor
from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest
from opora.core.models import Service
from opora.intake.models import ServiceRequest
from opora.notifications.outbox import Outbox, outbox_failed
from opora.notifications.services import outbox_delivery_retry
from opora.web.decorators import role_required
from opora.web.views.common import go, page

# The newest this many failures of each outbox are listed.
PER_OUTBOX = 200


@dataclass(frozen=True)
class FailedDelivery:
    key: str  # "<outbox label>:<pk>", the retry form's value
    outbox: str
    channel: str
    kind: str
    request_code: str
    service_id: int | None
    attempts: int
    last_error: str
    at: Any


def _notification_request(row: Any) -> tuple[ServiceRequest | None, int | None]:
    """The request (and service) a notification is about, from its generic subject."""
    if not row.subject_type or not row.subject_id:
        return None, None
    try:
        model = apps.get_model(row.subject_type)
        subject = model._default_manager.filter(pk=row.subject_id).first()
    except (LookupError, ValueError):
        return None, None
    if subject is None:
        return None, None
    if isinstance(subject, ServiceRequest):
        return subject, subject.service_id
    request = getattr(subject, "request", None)
    if request is None and getattr(subject, "booking", None) is not None:
        request = subject.booking.request
    if isinstance(request, ServiceRequest):
        return request, request.service_id
    return None, getattr(subject, "service_id", None)


def _describe(box: Outbox, row: Any) -> FailedDelivery:
    if box.label == "notifications.notification":
        request, service_id = _notification_request(row)
        channel, kind = row.get_channel_display(), row.kind
    elif box.label == "mail.outgoingletter":
        request, service_id = row.request, row.request.service_id
        channel, kind = _("E-mail"), _("Written answer")
    elif box.label == "messengers.outgoingchatmessage":
        request, service_id = row.conversation.request, row.account.service_id
        channel, kind = row.account.get_channel_display(), _("Chat message")
    else:
        request, service_id, channel, kind = None, None, box.label, ""
    return FailedDelivery(
        key=f"{box.label}:{row.pk}",
        outbox=box.label,
        channel=str(channel),
        kind=str(kind),
        request_code=(request.public_code or str(request.pk)) if request else "",
        service_id=service_id,
        attempts=row.attempts,
        last_error=row.last_error,
        at=row.created_at,
    )


_RELATED = {
    "mail.outgoingletter": ("request",),
    "messengers.outgoingchatmessage": ("account", "conversation__request"),
}


def failed_deliveries(*, actor: Actor, service: Service | None) -> list[FailedDelivery]:
    """Failed deliveries of every outbox for the actor's current service (an administrator also
    sees those that belong to no service), newest first."""
    sees_unowned = policy.sees_every_service(actor)
    rows: list[FailedDelivery] = []
    for box, qs in outbox_failed():
        for row in qs.select_related(*_RELATED.get(box.label, ()))[:PER_OUTBOX]:
            item = _describe(box, row)
            if (service is not None and item.service_id == service.pk) or (
                item.service_id is None and sees_unowned
            ):
                rows.append(item)
    return sorted(rows, key=lambda r: r.at, reverse=True)


@role_required(Action.DELIVERY_VIEW)
def deliveries(request: StaffRequest) -> HttpResponse:
    rows = failed_deliveries(actor=request.user, service=request.service)
    if request.method == "POST":
        key = request.POST.get("row", "")
        visible = {r.key: r for r in rows}
        if key in visible:
            policy.require(request.user, Action.DELIVERY_RETRY, service=request.service)
            label, _sep, pk = key.rpartition(":")
            if outbox_delivery_retry(actor=request.user, label=label, pk=int(pk)):
                messages.success(
                    request,
                    _("The message to request %(code)s will be sent again.")
                    % {"code": visible[key].request_code or "—"},
                )
            else:
                messages.info(request, _("This message is no longer among the failed ones."))
        else:
            messages.error(request, _("This message is no longer among the failed ones."))
        return go(request, reverse("deliveries"))
    return page(request, "web/head/deliveries.html", {"nav": "deliveries", "rows": rows})
