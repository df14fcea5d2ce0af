"""The rooms and addresses of a service (regulation 004's in-person help): added, edited,
deactivated — or deleted while no slot names them. Bad input is named: a place without a name,
a second place of the same name in the service."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from opora.accounts.policy import Action
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError
from opora.scheduling import locks
from opora.scheduling.models import Place
from opora.scheduling.services._common import _require


def place_check(place: Place) -> None:
    """Refuse, naming the field, a place without a name, of an unknown kind, or whose name is
    taken by another place of the same service (active or not: the journals name places)."""
    if not place.name:
        raise DomainError(_("Give the place a name, for example «Room 1»."), code="name")
    if place.kind not in Place.Kind.values:
        raise DomainError(_("Choose whether it is a room or another address."), code="kind")
    taken = Place.objects.filter(service_id=place.service_id, name__iexact=place.name)
    if place.pk is not None:
        taken = taken.exclude(pk=place.pk)
    if taken.exists():
        raise DomainError(
            _("The service already has a place named «%(name)s»; choose another name.")
            % {"name": place.name},
            code="duplicate",
        )
    try:
        place.full_clean(exclude=["service"], validate_constraints=False)
    except ValidationError as err:
        field, messages = next(iter(err.message_dict.items()))
        raise DomainError(" ".join(messages), code=field) from err


def place_save_checked(place: Place) -> None:
    """Save after `place_check`; a duplicate created meanwhile (the unique constraint) is the
    same named refusal, not an error page."""
    try:
        with transaction.atomic():
            place.save()
    except IntegrityError as err:
        raise DomainError(
            _("The service already has a place named «%(name)s»; choose another name.")
            % {"name": place.name},
            code="duplicate",
        ) from err


def _locked(place: Place) -> Place:
    return locks.place_qs_select_for_update().select_related("service").get(pk=place.pk)


@transaction.atomic
def place_update(
    *,
    actor: Any,
    place: Place,
    name: str,
    address: str = "",
    kind: str = Place.Kind.ROOM,
    is_active: bool = True,
) -> Place:
    """Rename a place, change its address or kind, or put it back in use."""
    place = _locked(place)
    _require(
        actor,
        Action.PLACE_MANAGE,
        service=place.service,
        message=_("You are not allowed to manage places."),
    )
    place.name, place.address, place.kind = name.strip(), address.strip(), kind
    place.is_active = is_active
    place_check(place)
    place_save_checked(place)
    audit_record(actor=actor, event_type=AuditEventType.PLACE_UPDATED, subject=place)
    return place


@transaction.atomic
def place_deactivate(*, actor: Any, place: Place) -> Place:
    """Take a place out of use: no new slot or walk-in names it; the slots and consultations
    that already do keep it (history)."""
    place = _locked(place)
    _require(
        actor,
        Action.PLACE_MANAGE,
        service=place.service,
        message=_("You are not allowed to manage places."),
    )
    if not place.is_active:
        raise DomainError(_("The place is already out of use."), code="inactive")
    place.is_active = False
    place.save(update_fields=["is_active"])
    audit_record(actor=actor, event_type=AuditEventType.PLACE_DEACTIVATED, subject=place)
    return place


@transaction.atomic
def place_delete(*, actor: Any, place: Place) -> None:
    """Delete a place entered by mistake. A place that a slot or a booking names is in use:
    refused — it is deactivated instead, so the history keeps its room."""
    place = _locked(place)
    _require(
        actor,
        Action.PLACE_MANAGE,
        service=place.service,
        message=_("You are not allowed to manage places."),
    )
    if place.slots.exists() or place.bookings.exists():
        raise _in_use()
    audit_record(
        actor=actor,
        event_type=AuditEventType.PLACE_DEACTIVATED,
        subject=place,
        extra={"deleted": True, "name_length": len(place.name)},
    )
    try:
        with transaction.atomic():
            place.delete()
    except ProtectedError as err:  # named by a record of another domain (an event)
        raise _in_use() from err


def _in_use() -> DomainError:
    return DomainError(
        _(
            "The place is in use by slots or consultations and cannot be deleted; "
            "take it out of use instead."
        ),
        code="in_use",
    )
