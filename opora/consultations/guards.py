"""What consultations tells scheduling about a booking, through scheduling's own hook.

A held consultation (ended; the protocol may still be coming) is the record of a service given:
its booking is neither moved nor cancelled. Scheduling may not import consultations, so it runs
the checks registered with `booking_change_check_register`, and this one is registered from
`ConsultationsConfig.ready`. The consultation stays the one source of "held" (the request keeps
"booked" until the protocol closes it), so nothing has to be copied and kept in step.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from opora.consultations.models import Consultation
from opora.core.errors import Conflict, DomainError
from opora.scheduling.models import Booking


def booking_held_problem(booking: Booking) -> DomainError | None:
    """A Conflict when the consultation of `booking` has been held, else None.

    Read without a lock: the end of a consultation locks only its own row, and a protocol save
    locks the consultation and then the request, so taking the consultation's lock after the
    request's here could deadlock with it. The request's row lock (held by the caller) already
    serialises this against the protocol closing the request.
    """
    status = (
        Consultation.objects.filter(booking_id=booking.pk).values_list("status", flat=True).first()
    )
    if status == Consultation.Status.ENDED:
        return Conflict(
            _(
                "The consultation has been held: its booking can no longer be moved or cancelled. "
                "The consultant writes the protocol, which closes the request."
            ),
            code="consultation_held",
        )
    return None


def register() -> None:
    from opora.scheduling.services import booking_change_check_register

    booking_change_check_register(booking_held_problem)
