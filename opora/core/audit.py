"""The one way to write the audit log. Call it inside the transaction of the change it records."""

from typing import Any

from django.db import models

from opora.core.models import AuditEvent
from opora.core.writes import NEW_PK


def audit_event(
    *, actor: Any, event_type: str, subject: models.Model, extra: dict | None = None
) -> AuditEvent:
    """The unsaved event `audit_record` writes. For a subject not saved yet, the id is `NEW_PK`:
    pass the event to `core.writes.save_together` with the subject as the row it inserts first.

    `extra` must never carry IINs, names or free text written by or about a client.
    """
    return AuditEvent(
        actor=actor if getattr(actor, "pk", None) else None,
        event_type=event_type,
        subject_type=subject._meta.label_lower,
        subject_id=NEW_PK if subject.pk is None else str(subject.pk),
        extra=extra or {},
    )


def audit_record(
    *, actor: Any, event_type: str, subject: models.Model, extra: dict | None = None
) -> AuditEvent:
    """Record `event_type` on `subject` by `actor` (a user or None for the system).

    `extra` must never carry IINs, names or free text written by or about a client.
    """
    event = audit_event(actor=actor, event_type=event_type, subject=subject, extra=extra)
    event.save(force_insert=True)
    return event
