"""The one way to write the audit log. Call it inside the transaction of the change it records."""

from typing import Any

from django.db import models

from opora.core.models import AuditEvent


def audit_record(
    *, actor: Any, event_type: str, subject: models.Model, extra: dict | None = None
) -> AuditEvent:
    """Record `event_type` on `subject` by `actor` (a user or None for the system).

    `extra` must never carry IINs, names or free text written by or about a client.
    """
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        event_type=event_type,
        subject_type=subject._meta.label_lower,
        subject_id=str(subject.pk),
        extra=extra or {},
    )
