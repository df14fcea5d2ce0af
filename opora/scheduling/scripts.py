"""What the operator says and what the client receives about a booking (regulation 001 §5).

"После приема заявки оператор обязан информировать пользователя … о дате и времени записи на
on-line консультирование …; о наименовании сайта … с реквизитами для … соединения; о порядке
изменения очереди бронирования." Every notice therefore carries the service, the date and time in
the service's time zone, the specialist, the one link to act on (the booking's short link: the
room when it is open, the private page with join / move / cancel otherwise) and how to change it;
the SMS stays within two parts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from opora.core.timezones import KAZAKHSTAN_ZONES, utc_offset
from opora.notifications.sms import sms_fit
from opora.scheduling.calendar import to_local

CREATED = "booking_created"
RESCHEDULED = "booking_rescheduled"
CANCELLED = "booking_cancelled"
REMINDER_DAY = "reminder_day"
REMINDER_HOUR = "reminder_hour"


# Kazakhstan keeps one zone (UTC+5) since 1 March 2024, whatever the tz database name.
@dataclass(frozen=True)
class Notice:
    """One notice in every form: the e-mail subject, the full text (e-mail, messengers), the
    SMS (≤ 2 parts), the e-mail's HTML, and the link to act on with its button label."""

    subject: str
    text: str
    sms: str
    html: str
    link: str
    link_label: str


def zone_label(service: Any, *, short: bool = False) -> str:
    """The service's time zone in words ("Astana time"), or its UTC offset for other zones."""
    if service.time_zone in KAZAKHSTAN_ZONES:
        return pgettext("time zone, short", "Astana time") if short else _("Astana time")
    if service.time_zone == "Europe/Moscow":
        return pgettext("time zone, short", "Moscow time") if short else _("Moscow time")
    return utc_offset(service.tz)


def _short_name(user: Any) -> str:
    """ "Иванова А.Б." for an SMS; the username when no name is stored."""
    initials = "".join(f"{p[0]}." for p in (user.first_name, user.patronymic) if p)
    return " ".join(p for p in (user.last_name, initials) if p) or user.display_name


def _when(booking: Any) -> dict[str, str]:
    slot = booking.slot
    service = slot.service
    starts = to_local(service, slot.starts_at)
    return {
        "date": starts.strftime("%d.%m.%Y"),
        "time": starts.strftime("%H:%M"),
        "consultant": slot.consultant.display_name,
        "zone": zone_label(service),
    }


def changes_online(service: Any) -> bool:
    """Whether the client can move or cancel the booking on the private page (the portal offers
    it only where the service allows self-booking)."""
    return bool(service.allows_self_booking)


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


# --- the operator's script --------------------------------------------------------------------


# Requests from these channels get the notices in their messenger conversation.
MESSENGER_CHANNELS = frozenset({"telegram", "whatsapp", "viber", "vk"})


def _no_contact(request: Any) -> bool:
    """Nothing can be sent: no phone, no e-mail, not asked through a messenger (an anonymous
    portal request). The private page is then all the client has."""
    return not (request.phone or request.email or request.channel in MESSENGER_CHANNELS)


def booking_confirmation_script(booking: Any) -> str:
    """The text the operator reads to the caller once the booking is made: what they will get
    and what the link lets them do, as the private page offers it. A client who left no contact
    is told that nothing is sent and that the booking is on the request's private page."""
    service = booking.slot.service
    request = booking.request
    lines = [
        _(
            "You are booked for an online consultation on %(date)s at %(time)s "
            "(%(zone)s) with the specialist %(consultant)s."
        )
        % _when(booking)
    ]
    no_contact = _no_contact(request)
    if no_contact:
        lines.append(
            _(
                "No phone or e-mail was left with the request, so nothing is sent: the booking is "
                "on the request's private page, the one that opened when the request was sent."
            )
        )
    elif request.phone:
        lines.append(
            _(
                "Right now you will receive an SMS with the date, the time and a link (and the "
                "same by e-mail or messenger if you gave them). The link comes again in the "
                "reminders, the day before and an hour before."
            )
        )
    else:
        lines.append(
            _(
                "Right now you will receive a letter or a messenger message with the date, the "
                "time and a link. The link comes again in the reminders, the day before and an "
                "hour before."
            )
        )
    if changes_online(service):
        lines.append(
            _(
                "On that page, at the time of the consultation, you join in the browser, nothing "
                "needs to be installed; there you can also move the booking to another time or "
                "cancel it."
            )
            if no_contact
            else _(
                "The link opens your booking's page: at the time of the consultation you join it "
                "from there in the browser, nothing needs to be installed; there you can also "
                "move the booking to another time or cancel it."
            )
        )
        if service.public_phone:
            lines.append(
                _("You can also change or cancel it by calling %(phone)s.")
                % {"phone": service.public_phone}
            )
    else:
        lines.append(
            _(
                "On that page, at the time of the consultation, you join in the browser, nothing "
                "needs to be installed."
            )
            if no_contact
            else _(
                "The link opens your booking's page: at the time of the consultation you join it "
                "from there in the browser, nothing needs to be installed."
            )
        )
        change = _how_to_change(service)
        if change:
            lines.append(_("To change or cancel the booking: %(change)s") % {"change": change})
    return "\n".join(lines)


# --- notices ----------------------------------------------------------------------------------


def _service_labels(name: str) -> list[str]:
    """The service's name, then shorter forms of it for an SMS (without a trailing "(...)" or
    " — place", then fewer words, never fewer than two)."""
    labels = [name]
    plain = re.sub(r"\s*\([^)]*\)\s*$", "", name).split(" — ")[0].strip()
    if plain and plain not in labels:
        labels.append(plain)
    words = plain.split()
    for n in range(len(words) - 1, 1, -1):
        labels.append(" ".join(words[:n]) + "…")
    return labels


def _sms(service: Any, what: list[str], action: str) -> str:
    """The fullest SMS that is sent in two parts: the service's name (shortened if need be) and
    `what` (the same sentence with the specialist's short name, surname, and none), else the
    sentence alone."""
    candidates = [
        f"{label}: {sentence} {action}"
        for label in _service_labels(service.name)
        for sentence in what[:2]
    ]
    candidates += [f"{sentence[:1].upper()}{sentence[1:]} {action}" for sentence in what]
    return sms_fit(candidates)


def _sms_action(kind: str, service: Any, link: str) -> str:
    if kind == CANCELLED:
        return pgettext("sms", "Details: %(link)s") % {"link": link}
    if changes_online(service):
        return pgettext("sms", "Join or change: %(link)s") % {"link": link}
    action = pgettext("sms", "Join: %(link)s") % {"link": link}
    if service.public_phone:
        action += " " + pgettext("sms", "To change call %(phone)s") % {
            "phone": service.public_phone
        }
    return action


def _sms_what(kind: str, booking: Any) -> list[str]:
    """The kind's sentence for an SMS with the specialist's short name, surname, and none."""
    slot = booking.slot
    when = _when(booking)
    user = slot.consultant
    names = [_short_name(user), user.last_name or user.display_name, ""]
    sentences = []
    for name in names:
        # dd.mm: a booking is at most weeks ahead, and five characters matter in an SMS.
        fmt = {
            **when,
            "date": when["date"][:5],
            "zone": zone_label(slot.service, short=True),
            "consultant": name,
        }
        if kind == CANCELLED:
            sentences.append(pgettext("sms", "consultation %(date)s %(time)s is cancelled.") % fmt)
            break
        if kind == RESCHEDULED:
            text = pgettext("sms", "consultation moved to %(date)s %(time)s %(zone)s")
        elif kind == REMINDER_DAY:
            text = pgettext("sms", "tomorrow %(date)s %(time)s %(zone)s consultation")
        elif kind == REMINDER_HOUR:
            text = pgettext("sms", "consultation today at %(time)s %(zone)s")
        else:
            text = pgettext("sms", "consultation %(date)s %(time)s %(zone)s")
        text = text % fmt
        sentences.append((f"{text}, {name}" if name else text).rstrip(".") + ".")
    return sentences


def _link_line(kind: str, service: Any, link: str) -> str:
    if kind == CANCELLED:
        return _("Your request's page: %(link)s") % {"link": link}
    if changes_online(service):
        return _("Join the consultation, move or cancel the booking on its page: %(link)s") % {
            "link": link
        }
    return _("Join the consultation on the booking's page: %(link)s") % {"link": link}


def _link_label(kind: str) -> str:
    if kind == CANCELLED:
        return _("Open the request's page")
    if kind == REMINDER_HOUR:
        return _("Join the consultation")
    return _("Open my booking")


def _opening(kind: str, booking: Any, previous: Any = None) -> tuple[str, str]:
    """(subject, first sentence) of the kind."""
    service = booking.slot.service
    when = _when(booking)
    named = {"service": service.name, **when}
    if kind == RESCHEDULED:
        subject = _("%(service)s: your consultation is moved to %(date)s at %(time)s") % named
        first = (
            _(
                "Your consultation is moved: new date %(date)s at %(time)s (%(zone)s), "
                "specialist %(consultant)s."
            )
            % when
        )
        if previous is not None:
            before = _when(previous)
            first += " " + _("The booking for %(date)s at %(time)s is no longer valid.") % {
                "date": before["date"],
                "time": before["time"],
            }
    elif kind == CANCELLED:
        subject = _("%(service)s: your consultation on %(date)s at %(time)s is cancelled") % named
        first = _("Your consultation on %(date)s at %(time)s (%(zone)s) is cancelled.") % when
    elif kind == REMINDER_DAY:
        subject = _("%(service)s: reminder of your consultation on %(date)s at %(time)s") % named
        first = (
            _(
                "Reminder: your online consultation is tomorrow, %(date)s at %(time)s (%(zone)s), "
                "specialist %(consultant)s."
            )
            % when
        )
    elif kind == REMINDER_HOUR:
        subject = _("%(service)s: your consultation starts at %(time)s") % named
        first = (
            _(
                "Reminder: your online consultation starts in an hour, at %(time)s (%(zone)s), "
                "specialist %(consultant)s."
            )
            % when
        )
    else:
        subject = _("%(service)s: your consultation on %(date)s at %(time)s") % named
        first = (
            _(
                "You are booked for an online consultation on %(date)s at %(time)s (%(zone)s), "
                "specialist %(consultant)s."
            )
            % when
        )
    return subject, first


def booking_notice(
    kind: str, booking: Any, *, link: str, previous: Any = None, with_html: bool = True
) -> Notice:
    """The notice of `kind` (CREATED, RESCHEDULED, CANCELLED, REMINDER_DAY, REMINDER_HOUR) about
    `booking`, in the active language, with `link` (the booking's short link). `with_html`:
    render the e-mail's HTML (not needed when there is no e-mail to send)."""
    service = booking.slot.service
    subject, first = _opening(kind, booking, previous)
    after: list[str] = []
    if kind == CANCELLED:
        if service.public_phone:
            after.append(
                _("To book another time, call %(phone)s.") % {"phone": service.public_phone}
            )
    else:
        after.append(
            _(
                "The link opens in the browser; nothing needs to be installed. Check the camera "
                "and microphone 30 minutes before."
            )
        )
        if service.join_instructions:
            after.append(service.join_instructions)
        if not changes_online(service):
            change = _how_to_change(service)
            if change:
                after.append(_("To change or cancel the booking: %(change)s") % {"change": change})
        elif service.public_phone:
            after.append(_("Phone: %(phone)s") % {"phone": service.public_phone})
    link_line = _link_line(kind, service, link)
    label = _link_label(kind)
    text = "\n".join([service.name, first, link_line, *after])
    html = (
        render_to_string(
            "notifications/email_notice.html",
            {
                "title": service.name,
                "lead": first,
                "link": link,
                "link_label": label,
                "link_line": link_line,
                "after": after,
            },
        )
        if with_html
        else ""
    )
    sms = _sms(service, _sms_what(kind, booking), _sms_action(kind, service, link))
    return Notice(subject=subject, text=text, sms=sms, html=html, link=link, link_label=label)
