"""Reads for complaints. The case file records each read of personal data with the complaint as
its reason; the authority gets counts unless it reviews the complaint itself."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from opora.accounts.actors import Actor
from opora.complaints import access, deadlines
from opora.complaints.models import Complaint
from opora.complaints.services import hash_follow_code
from opora.consultations import selectors as consultation_selectors
from opora.consultations.models import Recording
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import PermissionDenied
from opora.core.models import Service

OPEN_STATUSES = (
    Complaint.Status.REGISTERED,
    Complaint.Status.UNDER_REVIEW,
    Complaint.Status.DISPUTED,
)


@dataclass
class Row:
    complaint: Complaint
    overdue: bool
    days_left: int | None


def _rows(service: Service, complaints: QuerySet[Complaint]) -> list[Row]:
    today = deadlines.local_date(service)
    rows = []
    for c in complaints:
        is_open = c.status in OPEN_STATUSES
        rows.append(
            Row(
                complaint=c,
                overdue=is_open and c.due_on < today,
                days_left=deadlines.working_days_left(service, today, c.due_on)
                if is_open
                else None,
            )
        )
    return rows


def complaints_for_service(*, actor: Actor, service: Service, status: str = "") -> list[Row]:
    """Every complaint of the service with its deadline, for its heads and coordinators: open
    ones first by due date."""
    if not access.may_register(actor, service):
        raise PermissionDenied(_no_list())
    qs = Complaint.objects.filter(service=service).select_related("reviewer")
    if status:
        qs = qs.filter(status=status)
    rows = _rows(service, qs.order_by("due_on", "pk")[:500])
    # open ones first, each group by due date
    rows.sort(key=lambda r: (r.complaint.status not in OPEN_STATUSES, r.complaint.due_on))
    return rows


def _no_list() -> str:
    return _("Complaints are seen by the service's heads and coordinators.")


@dataclass
class ServiceCounts:
    service: Service
    counts: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    disputed: list[Row] = field(default_factory=list)


def authority_overview(*, actor: Actor) -> tuple[list[ServiceCounts], list[Row]]:
    """For the authority: counts per supervised service (no names, no text), the disputed
    complaints waiting for it (number and due date only) and, in full, the ones it reviews."""
    if not (getattr(actor, "is_authenticated", False) and actor.organisation_id):
        return [], []
    services = Service.objects.filter(authority_id=actor.organisation_id).order_by("pk")
    out = []
    for service in services:
        today = deadlines.local_date(service)
        agg = Complaint.objects.filter(service=service).aggregate(
            **{s: Count("pk", filter=Q(status=s)) for s in Complaint.Status.values},
            overdue=Count("pk", filter=Q(status__in=OPEN_STATUSES, due_on__lt=today)),
        )
        overdue = agg.pop("overdue")
        disputed = Complaint.objects.filter(service=service, status=Complaint.Status.DISPUTED).only(
            "pk", "number", "due_on", "status", "disputed_at", "service_id"
        )
        out.append(
            ServiceCounts(
                service=service, counts=agg, overdue=overdue, disputed=_rows(service, disputed)
            )
        )
    mine = Complaint.objects.filter(reviewer=actor).select_related("service")
    reviewed = []
    for c in mine:
        reviewed.extend(_rows(c.service, Complaint.objects.filter(pk=c.pk)))
    return out, reviewed


@dataclass
class CaseFile:
    """What the reviewer sees of the case; each part read is on the audit log."""

    request: Any = None
    booking: Any = None
    consultation: Any = None
    protocol: Any = None
    recordings: list[Recording] = field(default_factory=list)
    may_open_recordings: bool = False


def _read(actor: Any, complaint: Complaint, subject: Any, part: str) -> None:
    audit_record(
        actor=actor,
        event_type=AuditEventType.COMPLAINT_CASE_READ,
        subject=subject,
        extra={
            "reason": "complaint",
            "complaint_id": complaint.pk,
            "number": complaint.number,
            "part": part,
        },
    )


def complaint_case_file(*, actor: Actor, complaint: Complaint) -> CaseFile:
    """The request, booking, consultation, protocol and recordings the complaint is about, for
    whoever may read the complaint (the reviewer, the service's heads and coordinators). Each
    record read is audited with the complaint as the reason."""
    if not access.may_read(actor, complaint):
        raise PermissionDenied(_no_list())
    case = CaseFile()
    audit_record(
        actor=actor,
        event_type=AuditEventType.COMPLAINT_VIEWED,
        subject=complaint,
        extra={"number": complaint.number},
    )
    if complaint.request_id is not None:
        case.request = complaint.request
        _read(actor, complaint, case.request, "request")
    if complaint.consultation_id is not None:
        consultation = complaint.consultation
        case.consultation = consultation
        case.booking = consultation.booking
        _read(actor, complaint, case.booking, "booking")
        _read(actor, complaint, consultation, "consultation")
        protocol = getattr(consultation, "protocol", None)
        if protocol is not None:
            case.protocol = protocol
            _read(actor, complaint, protocol, "protocol")
        case.may_open_recordings = consultation_selectors.may_view_recordings(
            actor, complaint.service
        )
        case.recordings = list(consultation.recordings.order_by("started_at", "pk"))
    return case


def complaint_by_follow_code(*, service: Service, code: str) -> Complaint | None:
    """The complaint of the service with this follow-up code; None for any wrong code."""
    if not (code or "").strip():
        return None
    complaint = (
        Complaint.objects.filter(service=service, follow_code_hash=hash_follow_code(code))
        .select_related("service")
        .first()
    )
    if complaint is not None:
        audit_record(
            actor=None,
            event_type=AuditEventType.COMPLAINT_FOLLOWED,
            subject=complaint,
            extra={"number": complaint.number},
        )
    return complaint


def recording_clock(complaint: Complaint, today: dt.date | None = None) -> int | None:
    """Working days left for the recording (negative when late), None when not requested."""
    if complaint.recording_due_on is None:
        return None
    service = complaint.service
    return deadlines.working_days_left(
        service, today or deadlines.local_date(service), complaint.recording_due_on
    )
