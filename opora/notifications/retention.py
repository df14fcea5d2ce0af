"""The retention purger of notifications (registered in `NotificationsConfig.ready`, run by
`core.retention`): past the term a sent or failed notification keeps its channel, kind, status,
attempts and dates (the deliveries page and the reports count them) and loses its recipient,
subject, texts, link and attachments.

A notification names what it is about generically (`subject_type`, `subject_id`), not its
service; this app may not import the apps above it, so the service is found through the subject's
model (from the app registry) by the first of `SERVICE_PATHS` it has. A notification about
nothing of a service (none today) is left alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import CharField, Q
from django.db.models.functions import Cast

from opora.core.models import Service
from opora.notifications.models import Notification, NotificationAttachment, OutboxStatus

SERVICE_PATHS = (
    "service",
    "request__service",
    "slot__service",
    "booking__slot__service",
    "consultation__booking__slot__service",
)
DONE = [OutboxStatus.SENT, OutboxStatus.FAILED]


def _service_path(model: Any) -> str | None:
    for path in SERVICE_PATHS:
        current = model
        try:
            for part in path.split("__"):
                field = current._meta.get_field(part)
                current = field.related_model
        except FieldDoesNotExist:
            continue
        if current is Service:
            return path
    return None


def _of_service(service: Service, types: list[str]) -> Q:
    """Notifications whose subject belongs to `service`, as one SQL condition."""
    q = Q(pk__in=[])
    for label in types:
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError):
            continue
        path = _service_path(model)
        if path is None:
            continue
        ids = (
            model._base_manager.filter(**{path: service})
            .annotate(text_pk=Cast("pk", CharField()))
            .values("text_pk")
        )
        q |= Q(subject_type=label, subject_id__in=ids)
    return q


def purge_notifications(service: Service, cutoff: dt.datetime, limit: int, dry_run: bool) -> int:
    past = Notification.objects.filter(created_at__lt=cutoff, status__in=DONE).exclude(
        subject_type=""
    )
    types = sorted(set(past.order_by().values_list("subject_type", flat=True).distinct()))
    due = past.filter(_of_service(service, types)).filter(
        ~Q(recipient="") | ~Q(body="") | ~Q(subject="") | ~Q(html_body="") | ~Q(action_url="")
    )
    if dry_run:
        return due.count()
    ids = list(due.order_by("pk").values_list("pk", flat=True)[:limit])
    NotificationAttachment.objects.filter(notification_id__in=ids).delete()
    # The blind index of the recipient goes with it: the old address finds nothing.
    Notification.objects.filter(pk__in=ids).update(
        recipient="",
        recipient_bidx="",
        subject="",
        body="",
        html_body="",
        action_url="",
        action_label="",
    )
    return len(ids)
