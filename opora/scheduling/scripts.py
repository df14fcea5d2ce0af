"""What the operator says and what the client receives about a booking (regulation 001 §5).

After a booking the client must learn the date and time, how to join, and how to change it.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from opora.scheduling.calendar import to_local


def _when(booking: Any) -> dict[str, str]:
    slot = booking.slot
    service = slot.service
    starts = to_local(service, slot.starts_at)
    return {
        "date": starts.strftime("%d.%m.%Y"),
        "time": starts.strftime("%H:%M"),
        "consultant": slot.consultant.display_name,
    }


def _how_to_change(service: Any) -> str:
    if service.change_instructions:
        return service.change_instructions
    if service.public_phone:
        return _("call %(phone)s") % {"phone": service.public_phone}
    return ""


def _details(service: Any) -> list[str]:
    parts = []
    if service.join_instructions:
        parts.append(_("How to join: %(join)s") % {"join": service.join_instructions})
    change = _how_to_change(service)
    if change:
        parts.append(_("To change or cancel the booking: %(change)s") % {"change": change})
    if service.public_phone and service.public_phone not in change:
        parts.append(_("Phone: %(phone)s") % {"phone": service.public_phone})
    return parts


def booking_confirmation_script(booking: Any) -> str:
    """The text the operator reads to the caller once the booking is made."""
    service = booking.slot.service
    lines = [
        _(
            "You are booked for an online consultation on %(date)s at %(time)s "
            "(local time) with the specialist %(consultant)s."
        )
        % _when(booking),
        *_details(service),
        _("You will also receive these details by SMS or e-mail."),
    ]
    return "\n".join(lines)


def booking_created_message(booking: Any) -> tuple[str, str]:
    """(subject, body) of the message that confirms a new booking to the client."""
    service = booking.slot.service
    subject = _("%(service)s: your consultation on %(date)s at %(time)s") % {
        "service": service.name,
        **_when(booking),
    }
    body = "\n".join(
        [
            _("Online consultation: %(date)s at %(time)s (local time), specialist %(consultant)s.")
            % _when(booking),
            *_details(service),
        ]
    )
    return subject, body


def booking_rescheduled_message(booking: Any, previous: Any) -> tuple[str, str]:
    """(subject, body) telling the client the booking moved from `previous` to `booking`."""
    service = booking.slot.service
    before = _when(previous)
    subject = _("%(service)s: your consultation is moved to %(date)s at %(time)s") % {
        "service": service.name,
        **_when(booking),
    }
    body = "\n".join(
        [
            _(
                "Your consultation is moved: new date %(date)s at %(time)s (local time), "
                "specialist %(consultant)s."
            )
            % _when(booking),
            _("The booking for %(date)s at %(time)s is no longer valid.")
            % {"date": before["date"], "time": before["time"]},
            *_details(service),
        ]
    )
    return subject, body


def booking_cancelled_message(booking: Any) -> tuple[str, str]:
    """(subject, body) telling the client the booking is cancelled."""
    service = booking.slot.service
    subject = _("%(service)s: your consultation on %(date)s at %(time)s is cancelled") % {
        "service": service.name,
        **_when(booking),
    }
    lines = [
        _("Your consultation on %(date)s at %(time)s (local time) is cancelled.") % _when(booking)
    ]
    if service.public_phone:
        lines.append(_("To book another time, call %(phone)s.") % {"phone": service.public_phone})
    return subject, "\n".join(lines)
