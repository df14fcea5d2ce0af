"""Who may do what with a complaint: the one place every view, service and selector asks.

The roles are the access policy's (`opora.accounts.policy`: `complaint.*`); what stays here are
the record rules of the domain (the reviewer, the consultant complained about, the authority of
the service's organisation, the complaint's status).

- the service's heads (and administrators) see and manage every complaint of the service;
- coordinators see them and register paper letters and visits;
- the reviewer sees the complaint they review, with its case file;
- the authority sees counts, takes a disputed complaint (§19) and then reviews it;
- the consultant complained about sees nothing of it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from opora.accounts import policy
from opora.accounts.models import Role, User
from opora.accounts.policy import Action, sees_every_service
from opora.complaints.models import Complaint
from opora.core.errors import NotFound, PermissionDenied
from opora.core.models import Service


def _staff(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False) and actor.is_active)


def works_for(actor: Any, service: Service) -> bool:
    return _staff(actor) and policy.works_for(actor, service.pk)


def may_register(actor: Any, service: Service) -> bool:
    """Register a paper letter, a visit or a letter recognised as a complaint."""
    return policy.can(actor, Action.COMPLAINT_FILE, service=service)


def may_manage(actor: Any, service: Service) -> bool:
    """Assign reviewers and close complaints: a head of the service or an administrator."""
    return policy.can(actor, Action.COMPLAINT_ASSIGN, service=service)


def is_authority_of(actor: Any, service: Service) -> bool:
    """Staff of the authority that supervises `service` (the policy's `complaint.take`)."""
    return (
        policy.can(actor, Action.COMPLAINT_TAKE)
        and service.authority_id is not None
        and actor.organisation_id == service.authority_id
    )


def may_read(actor: Any, complaint: Complaint) -> bool:
    """The whole complaint and its case file."""
    if not _staff(actor):
        return False
    if complaint.reviewer_id is not None and complaint.reviewer_id == actor.pk:
        return True
    if not may_register(actor, complaint.service):
        return False
    # A head who is also the consultant complained about does not read the case against them.
    return sees_every_service(actor) or actor.pk not in consultants_complained_about(complaint)


def may_take(actor: Any, complaint: Complaint) -> bool:
    """The authority takes a disputed complaint for its own review (§19)."""
    return complaint.status == Complaint.Status.DISPUTED and is_authority_of(
        actor, complaint.service
    )


def may_answer(actor: Any, complaint: Complaint) -> bool:
    return (
        complaint.status == Complaint.Status.UNDER_REVIEW
        and complaint.reviewer_id is not None
        and complaint.reviewer_id == getattr(actor, "pk", None)
    )


def complaint_access(actor: Any, complaint_id: Any) -> Complaint:
    """The complaint `actor` may read, or `NotFound` / `PermissionDenied`."""
    try:
        pk = int(complaint_id)
    except (TypeError, ValueError):
        raise NotFound(_("No such complaint.")) from None
    complaint = (
        Complaint.objects.select_related("service", "reviewer", "request", "consultation")
        .filter(pk=pk)
        .first()
    )
    if complaint is None:
        raise NotFound(_("No such complaint."))
    if not may_read(actor, complaint) and not may_take(actor, complaint):
        raise PermissionDenied(_("This complaint is not yours to see."))
    return complaint


def consultants_complained_about(complaint: Complaint) -> set[int]:
    """The staff a complaint is about: the consultant of its consultation (and the protocol's
    author), or, for a request without one, the consultants of the request's bookings."""
    ids: set[int] = set()
    if complaint.consultation_id is not None:
        c = complaint.consultation
        ids.add(c.booking.slot.consultant_id)
        protocol = getattr(c, "protocol", None)
        if protocol is not None:
            ids.add(protocol.written_by_id)
    if complaint.request_id is not None:
        ids.update(complaint.request.bookings.values_list("slot__consultant_id", flat=True))
    return ids


def reviewer_candidates(complaint: Complaint, *, everyone: bool = False) -> QuerySet[User]:
    """Who may review: heads and coordinators of the service, or (once disputed) the authority's
    staff — never the consultant complained about (`everyone`: the pool before that rule, for
    the form, so that choosing them is refused with the reason)."""
    service = complaint.service
    if (
        complaint.stage == Complaint.Stage.AUTHORITY
        or complaint.status == Complaint.Status.DISPUTED
    ):
        qs = User.objects.filter(
            role=Role.AUTHORITY, organisation_id=service.authority_id, is_active=True
        )
    else:
        qs = User.objects.filter(
            role__in=[Role.HEAD, Role.COORDINATOR], services=service, is_active=True
        )
    if not everyone:
        qs = qs.exclude(pk__in=consultants_complained_about(complaint))
    return qs.order_by("last_name", "first_name", "pk")
