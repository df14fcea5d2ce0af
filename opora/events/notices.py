"""What events tell their participants, through the one outbox (`opora.notifications`).

Every notice is a stored `Notification` first; the e-mail of a confirmation carries the event as
an .ics, a certificate's e-mail its PDF. Reminders are stored once each (a dedupe prefix).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from opora.core.links import public_url
from opora.events import ics
from opora.events.models import Certificate, Event, Registration
from opora.notifications.services import notification_send_to_client


def private_link(registration: Registration) -> str:
    return public_url(reverse("events:registration", args=[registration.token]))


def _when(event: Event) -> str:
    local = timezone.localtime(event.starts_at, event.service.tz)
    return date_format(local, "DATETIME_FORMAT")


def _send(
    registration: Registration,
    *,
    kind: str,
    subject: str,
    body: str,
    attachments: list[tuple[str, bytes, str]] | None = None,
    dedupe_prefix: str = "",
) -> int:
    link = private_link(registration)
    sent = notification_send_to_client(
        kind=kind,
        subject=subject,
        body=f"{body}\n\n{link}",
        sms_body=f"{body} {link}",
        about=registration,
        phone=registration.phone,
        email=registration.email,
        attachments=attachments,
        dedupe_prefix=dedupe_prefix,
        action_url=link,
        action_label=_("Open"),
    )
    return len(sent)


def registration_confirmed(registration: Registration) -> None:
    event = registration.event
    if registration.status == Registration.Status.WAITING:
        body = _(
            "«%(title)s», %(when)s: the places are taken; you are number %(position)s on the "
            "waiting list. We will tell you if a place frees up."
        ) % {"title": event.title, "when": _when(event), "position": registration.waiting_position}
        _send(registration, kind="event_waiting", subject=_("Waiting list"), body=body)
        return
    body = _("You are registered for «%(title)s», %(when)s. Join through your personal link:") % {
        "title": event.title,
        "when": _when(event),
    }
    _send(
        registration,
        kind="event_registered",
        subject=_("Registration confirmed"),
        body=body,
        attachments=[
            ("event.ics", ics.event_ics(event, private_link(registration)), "text/calendar")
        ],
    )


def registration_promoted(registration: Registration) -> None:
    event = registration.event
    body = _("A place freed up: you are registered for «%(title)s», %(when)s. Your link:") % {
        "title": event.title,
        "when": _when(event),
    }
    _send(
        registration,
        kind="event_registered",
        subject=_("Registration confirmed"),
        body=body,
        attachments=[
            ("event.ics", ics.event_ics(event, private_link(registration)), "text/calendar")
        ],
    )


def reminder(registration: Registration, when: str) -> int:
    event = registration.event
    if when == "day":
        text = _("Tomorrow: «%(title)s», %(when)s. Your link:")
    else:
        text = _("In an hour: «%(title)s», %(when)s. Your link:")
    return _send(
        registration,
        kind="event_reminder",
        subject=_("Reminder"),
        body=text % {"title": event.title, "when": _when(event)},
        dedupe_prefix=f"event-reminder-{when}",
    )


def certificate_issued(certificate: Certificate) -> None:
    from opora.events.certificates import certificate_pdf

    registration = certificate.registration
    body = _("Your certificate of participation in «%(title)s» is attached; code %(code)s.") % {
        "title": certificate.event_title,
        "code": certificate.code,
    }
    _send(
        registration,
        kind="event_certificate",
        subject=_("Certificate of participation"),
        body=body,
        attachments=[("certificate.pdf", certificate_pdf(certificate), "application/pdf")],
    )


def announcement(event: Event, registration: Registration) -> None:
    """Only by e-mail (an announcement is not worth an SMS), once per event and contact."""
    if not registration.email:
        return
    url = public_url(reverse("events:register", args=[event.pk]))
    notification_send_to_client(
        kind="event_announcement",
        subject=event.title,
        body=_("«%(title)s», %(when)s.\n%(description)s\n\nRegistration: %(url)s")
        % {
            "title": event.title,
            "when": _when(event),
            "description": event.description,
            "url": url,
        },
        about=event,
        email=registration.email,
        dedupe_prefix=f"event-announcement-{registration.contact_key}"[:60],
        action_url=url,
        action_label=_("Register"),
    )


def event_cancelled(registration: Registration) -> int:
    """The event is cancelled: told once per registration (by its phone and/or e-mail)."""
    event = registration.event
    body = _(
        "«%(title)s», %(when)s, is cancelled. We are sorry; the service will tell you of its next events."
    ) % {
        "title": event.title,
        "when": _when(event),
    }
    return _send(
        registration,
        kind="event_cancelled",
        subject=_("Event cancelled"),
        body=body,
        dedupe_prefix="event-cancelled",
    )
