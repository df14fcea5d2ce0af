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

from typing import TypeGuard

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from opora.accounts import policy
from opora.accounts.actors import Actor
from opora.accounts.models import Role, User
from opora.accounts.policy import Action, sees_every_service
from opora.complaints.models import Complaint
from opora.consultations.models import Protocol
from opora.core.errors import NotFound, PermissionDenied
from opora.core.models import Service

# Each question below answers True only for a staff member: a `TypeGuard[User]`, so that a
# service that asked may use the actor as the `User` it is.


def _staff(actor: Actor) -> TypeGuard[User]:
    return isinstance(actor, User) and actor.is_active


def works_for(actor: Actor, service: Service) -> TypeGuard[User]:
    return _staff(actor) and policy.works_for(actor, service.pk)


def may_register(actor: Actor, service: Service) -> TypeGuard[User]:
    """Register a paper letter, a visit or a letter recognised as a complaint."""
    return policy.can(actor, Action.COMPLAINT_FILE, service=service)


def may_manage(actor: Actor, service: Service) -> TypeGuard[User]:
    """Assign reviewers and close complaints: a head of the service or an administrator."""
    return policy.can(actor, Action.COMPLAINT_ASSIGN, service=service)


def is_authority_of(actor: Actor, service: Service) -> TypeGuard[User]:
    """Staff of the authority that supervises `service` (the policy's `complaint.take`)."""
    return (
        _staff(actor)
        and policy.can(actor, Action.COMPLAINT_TAKE)
        and service.authority_id is not None
        and actor.organisation_id == service.authority_id
    )


def may_read(actor: Actor, complaint: Complaint) -> TypeGuard[User]:
    """The whole complaint and its case file."""
    if not _staff(actor):
        return False
    if complaint.reviewer_id is not None and complaint.reviewer_id == actor.pk:
        return True
    if not may_register(actor, complaint.service):
        return False
    # A head who is also the consultant complained about does not read the case against them.
    return sees_every_service(actor) or actor.pk not in consultants_complained_about(complaint)


def may_take(actor: Actor, complaint: Complaint) -> TypeGuard[User]:
    """The authority takes a disputed complaint for its own review (§19)."""
    return complaint.status == Complaint.Status.DISPUTED and is_authority_of(
        actor, complaint.service
    )


def may_answer(actor: Actor, complaint: Complaint) -> TypeGuard[User]:
    return (
        isinstance(actor, User)
        and complaint.status == Complaint.Status.UNDER_REVIEW
        and complaint.reviewer_id is not None
        and complaint.reviewer_id == actor.pk
    )


def complaint_access(actor: Actor, complaint_id: int | str) -> Complaint:
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
    c = complaint.consultation if complaint.consultation_id is not None else None
    if c is not None:
        ids.add(c.booking.slot.consultant_id)
        protocol: Protocol | None = getattr(c, "protocol", None)
        if protocol is not None:
            ids.add(protocol.written_by_id)
    request = complaint.request if complaint.request_id is not None else None
    if request is not None:
        ids.update(request.bookings.values_list("slot__consultant_id", flat=True))
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
        # No authority named: nobody (not the authority staff without an organisation).
        qs = (
            User.objects.filter(
                role=Role.AUTHORITY, organisation_id=service.authority_id, is_active=True
            )
            if service.authority_id is not None
            else User.objects.none()
        )
    else:
        qs = User.objects.filter(
            role__in=[Role.HEAD, Role.COORDINATOR], services=service, is_active=True
        )
    if not everyone:
        qs = qs.exclude(pk__in=consultants_complained_about(complaint))
    return qs.order_by("last_name", "first_name", "pk")
