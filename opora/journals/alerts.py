"""The heads are told when a request was booked past the service's 10 calendar days.

Regulation 004 asks for service within 10 calendar days of the request; today Opora only hints
at it on a new request. The sweep (`journals.tasks.alert_late_bookings`, every 30 minutes) looks
at requests booked recently whose FIRST booking was made later than `service_within_days` after
registration (`dashboards.late_bookings`), and stores one e-mail per head of the service per
request (a dedupe key, so a sweep repeated or run twice tells nobody twice), audited.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from opora.accounts.models import Role, User
from opora.core.audit import AuditEventType, audit_record
from opora.core.links import public_url
from opora.intake.models import ServiceRequest
from opora.journals.dashboards import late_bookings
from opora.notifications.models import Notification
from opora.notifications.services import notification_create
from opora.scheduling.models import Booking

# A booking made in this window is looked at (a sweep missed for a day still catches it).
LOOKBACK = dt.timedelta(days=3)


def _dedupe_key(request: ServiceRequest, head: User) -> str:
    return f"late_booking:{request.pk}:{head.pk}"


def late_booking_alert(*, now: dt.datetime | None = None) -> int:
    """Tell each head once about each request whose first booking came past day 10. Returns the
    number of requests the heads were told about now."""
    now = now or timezone.now()
    booked = Booking.objects.filter(created_at__gte=now - LOOKBACK).values("request_id")
    recent = ServiceRequest.objects.filter(pk__in=booked)
    flagged = 0
    for request in late_bookings(base=recent).select_related("service"):
        if _alert(request=request):
            flagged += 1
    return flagged


@transaction.atomic
def _alert(*, request: ServiceRequest) -> bool:
    heads = list(
        User.objects.filter(services=request.service, role=Role.HEAD, is_active=True)
        .exclude(email="")
        .order_by("pk")
    )
    keys = {head.pk: _dedupe_key(request, head) for head in heads}
    told = set(
        Notification.objects.filter(dedupe_key__in=keys.values()).values_list(
            "dedupe_key", flat=True
        )
    )
    new = [head for head in heads if keys[head.pk] not in told]
    if not new:
        return False
    days = getattr(request, "lead_days", None)
    link = public_url(reverse("operator_request", args=[request.pk]))
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Request %(code)s was booked past day %(limit)s") % {
            "code": request.public_code or request.pk,
            "limit": request.service.service_within_days,
        }
        body = _(
            "Request %(code)s was first booked %(days)s calendar days after it was registered; "
            "the service is due within %(limit)s days. Open the request: %(link)s"
        ) % {
            "code": request.public_code or request.pk,
            "days": days,
            "limit": request.service.service_within_days,
            "link": link,
        }
    for head in new:
        notification_create(
            channel="email",
            recipient=head.email,
            subject=subject,
            body=body,
            kind="late_booking",
            about=request,
            dedupe_key=keys[head.pk],
            copy_to_messengers=False,
        )
    audit_record(
        actor=None,
        event_type=AuditEventType.LATE_BOOKING_FLAGGED,
        subject=request,
        extra={"lead_days": days, "heads_told": len(new)},
    )
    return True
