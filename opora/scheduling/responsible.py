"""Regulation 001 §10: the register of the responsible persons of each side of a service.

«При изменении реквизитов ответственного лица … новые данные представляются в течении 1 (одного)
рабочего дня» to the other side's addresses. A change closes the current row and starts a new
one (the register keeps its history), sends the new details by e-mail to the other side (its
organisation's address and its current responsible person's), and is flagged `is_late` when it is
recorded after the first working day following the day it took effect (the service's calendar).

It lives in scheduling because the rule is counted in the service's working days
(`scheduling.calendar`) and it belongs with the other arrangement between the two sides, the
daily hand-off; the rows themselves are staff data (`accounts.ResponsiblePerson`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.accounts.actors import Actor, User
from opora.accounts.models import ResponsiblePerson, ResponsibleSide
from opora.accounts.policy import Action, require
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import Conflict, DomainError
from opora.core.models import Organisation, Service
from opora.notifications.services import notification_create
from opora.scheduling.calendar import ServiceCalendar, local_now

NOTICE_KIND = "responsible_changed"


def _organisation(service: Service, side: str) -> Organisation | None:
    if side == ResponsibleSide.INTAKE:
        return service.intake_organisation
    return service.provider_organisation


def _other(side: str) -> str:
    return ResponsibleSide.PROVIDER if side == ResponsibleSide.INTAKE else ResponsibleSide.INTAKE


def responsible_deadline(*, service: Service, valid_from: dt.date) -> dt.date:
    """The last day on which a change that took effect on `valid_from` is on time: the first
    working day after it (a change over a weekend or holiday may wait for the next working day)."""
    return ServiceCalendar(service).add_working_days(valid_from, 1)


def responsible_other_side_addresses(*, service: Service, side: str) -> list[str]:
    """Where a change of `side`'s responsible person is sent: the other side's organisation
    address and its current responsible person's e-mail, each once."""
    other = _other(side)
    addresses: list[str] = []
    organisation = _organisation(service, other)
    if organisation is not None and organisation.email:
        addresses.append(organisation.email)
    current = ResponsiblePerson.objects.filter(
        service=service, side=other, valid_to__isnull=True
    ).first()
    if current is not None and current.email and current.email not in addresses:
        addresses.append(current.email)
    return addresses


@transaction.atomic
def responsible_person_change(
    *,
    actor: Actor,
    service: Service,
    side: str,
    full_name: str,
    position: str = "",
    phone: str = "",
    email: str = "",
    valid_from: dt.date,
    now: dt.datetime | None = None,
) -> ResponsiblePerson:
    """Record the new responsible person (or new details) of `side` from `valid_from`.

    The current row of the side ends the day before (`valid_to`); the new row is flagged late when
    today (the service's local date) is after `responsible_deadline`. The other side is sent the
    new details by e-mail once the transaction commits. DomainError when the side has no
    organisation, the date is before the current row's start, or the name is missing.
    """
    require(actor, Action.RESPONSIBLE_PERSONS, service=service)
    if side not in ResponsibleSide.values:
        raise DomainError(_("Choose a side from the list."), code="invalid_side")
    organisation = _organisation(service, side)
    if organisation is None:
        raise DomainError(
            _("The service has no organisation on this side: set it in the service first."),
            code="no_organisation",
        )
    full_name = " ".join((full_name or "").split())
    if not full_name:
        raise DomainError(_("Enter the responsible person's full name."), code="full_name_required")
    moment = now or timezone.now()
    today = local_now(service, moment).date()
    if valid_from > today:
        raise DomainError(
            _("Record a change once it has taken effect: the date is in the future."),
            code="valid_from_future",
        )
    # No row lock: of two changes at once, the second's insert waits on the first's row in the
    # partial unique index `responsible_one_current_per_side` and fails, answered as a Conflict.
    current = ResponsiblePerson.objects.filter(
        service=service, side=side, valid_to__isnull=True
    ).first()
    if current is not None:
        if valid_from <= current.valid_from:
            raise DomainError(
                _("The change must take effect after the current record (from %(date)s).")
                % {"date": current.valid_from.strftime("%d.%m.%Y")},
                code="valid_from_too_early",
            )
        current.valid_to = valid_from - dt.timedelta(days=1)
        current.save(update_fields=["valid_to"])
    person = ResponsiblePerson(
        service=service,
        side=side,
        organisation=organisation,
        full_name=full_name,
        position=(position or "").strip(),
        phone=(phone or "").strip(),
        email=(email or "").strip(),
        valid_from=valid_from,
        recorded_at=moment,
        recorded_by=actor if isinstance(actor, User) and actor.pk else None,
        is_late=today > responsible_deadline(service=service, valid_from=valid_from),
    )
    person.full_clean()
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError:
        raise Conflict(
            _("Someone recorded a change of this side at the same time; reload the page."),
            code="responsible_conflict",
        ) from None
    recipients = responsible_other_side_addresses(service=service, side=side)
    body = _notice_body(service=service, person=person)
    for address in recipients:
        notification_create(
            channel="email",
            recipient=address,
            subject=_("Change of the responsible person: %(service)s") % {"service": service},
            body=body,
            kind=NOTICE_KIND,
            about=person,
            copy_to_messengers=False,
        )
    audit_record(
        actor=actor,
        event_type=AuditEventType.RESPONSIBLE_PERSON_CHANGED,
        subject=person,
        extra={
            "service": service.code,
            "side": side,
            "valid_from": valid_from.isoformat(),
            "late": person.is_late,
            "notified": len(recipients),
        },
    )
    return person


def _notice_body(*, service: Service, person: ResponsiblePerson) -> str:
    lines = [
        _("The responsible person of %(side)s of the service «%(service)s» has changed.")
        % {"side": person.get_side_display(), "service": service},
        _("From: %(date)s") % {"date": person.valid_from.strftime("%d.%m.%Y")},
        _("Full name: %(name)s") % {"name": person.full_name},
    ]
    if person.position:
        lines.append(_("Position: %(position)s") % {"position": person.position})
    if person.phone:
        lines.append(_("Phone: %(phone)s") % {"phone": person.phone})
    if person.email:
        lines.append(_("E-mail: %(email)s") % {"email": person.email})
    lines.append(_("Regulation 001 §10."))
    return "\n".join(lines)


@dataclass
class ResponsibleRegister:
    service: Service
    current: dict[str, ResponsiblePerson | None]
    history: list[ResponsiblePerson]


def responsible_register(*, actor: Actor, service: Service) -> ResponsibleRegister:
    """The register of the service: the current person of each side and every row, newest first.
    The read is audited (the rows carry names and contacts)."""
    require(actor, Action.RESPONSIBLE_PERSONS, service=service)
    rows = list(
        ResponsiblePerson.objects.filter(service=service)
        .select_related("organisation", "recorded_by")
        .order_by("side", "-valid_from", "-pk")
    )
    current: dict[str, ResponsiblePerson | None] = dict.fromkeys(ResponsibleSide.values)
    for row in rows:
        if row.valid_to is None:
            current[row.side] = row
    audit_record(
        actor=actor,
        event_type=AuditEventType.RESPONSIBLE_PERSONS_VIEWED,
        subject=service,
        extra={"rows": len(rows)},
    )
    return ResponsibleRegister(service=service, current=current, history=rows)
