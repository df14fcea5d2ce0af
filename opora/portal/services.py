"""Writes of the public portal: a request from the site, stored before the page says "received".

The request itself is registered by `intake.services.request_create` (codes, token, anonymity,
eligibility); this module adds how the client wants the answer and which language they used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from opora.core.errors import DomainError
from opora.intake.models import Channel, ConsentText, ServiceRequest
from opora.intake.services import request_create
from opora.portal.models import MESSENGERS, PortalSubmission, ReplyChannel
from opora.registry.iin import IINError, validate_iin
from opora.registry.services import eligibility_check


@dataclass(frozen=True)
class PortalRequest:
    """What the client typed, already parsed by the form."""

    is_anonymous: bool = False
    full_name: str = ""
    iin: str = ""
    phone: str = ""
    email: str = ""
    reply_channel: str = ReplyChannel.EMAIL
    reply_contact: str = ""
    requester_kind: str = ""
    child_age: int | None = None
    typical_question: str = ""
    reason: str = ""
    preferred_form: str = ""


class Ineligible(DomainError):
    """The online ЦБД/ЦБДИ check did not confirm the client (the refusal is on record)."""

    code = "ineligible"


def _language() -> str:
    lang = (get_language() or "ru")[:2]
    return lang if lang in ("ru", "kk", "en") else "ru"


def _check_reply(data: PortalRequest) -> None:
    """The contact the chosen answer channel needs must be there (named requests only)."""
    channel = data.reply_channel
    if channel == ReplyChannel.EMAIL and not data.email.strip():
        raise DomainError(
            _("Enter your e-mail address: you asked for the answer by e-mail."),
            code="email_required",
        )
    if channel in (ReplyChannel.PHONE, ReplyChannel.WHATSAPP, ReplyChannel.VIBER) and not (
        data.phone.strip()
    ):
        raise DomainError(
            _("Enter your phone number: you asked for the answer by phone or messenger."),
            code="phone_required",
        )
    if channel == ReplyChannel.TELEGRAM and not (data.phone.strip() or data.reply_contact.strip()):
        raise DomainError(
            _("Enter your Telegram user name or your phone number."),
            code="reply_contact_required",
        )


def portal_request_submit(
    *, service: Any, data: PortalRequest, consent: ConsentText | None
) -> ServiceRequest:
    """Register a request sent from the portal and what the portal adds to it.

    Named requests need the consent to personal-data processing (stored with its version and
    time). Where the service checks eligibility, the online check runs first, outside the
    request's transaction so that a refusal stays on record; `Ineligible` then carries no
    details of why (the public page must not tell a stranger what the registry holds).
    """
    if data.is_anonymous:
        # Regulation 004: an anonymous client gives no personal data at all; they follow the
        # request through its private link.
        data = PortalRequest(
            is_anonymous=True,
            reply_channel=ReplyChannel.PRIVATE_LINK,
            requester_kind=data.requester_kind,
            child_age=data.child_age,
            typical_question=data.typical_question,
            reason=data.reason,
            preferred_form=data.preferred_form,
        )
        consent = None
    else:
        if consent is None:
            raise DomainError(
                _("Please agree to the processing of your personal data."),
                code="consent_required",
            )
        _check_reply(data)
    check = None
    if service.requires_eligibility and not data.is_anonymous:
        check = _eligibility(service=service, iin=data.iin, full_name=data.full_name)
    with transaction.atomic():
        request = request_create(
            actor=None,
            service=service,
            full_name=data.full_name,
            iin=data.iin,
            phone=data.phone,
            email=data.email,
            reason=data.reason,
            channel=Channel.PORTAL,
            eligibility_check=check,
            is_anonymous=data.is_anonymous,
            requester_kind=data.requester_kind,
            child_age=data.child_age,
            typical_question=data.typical_question,
            preferred_form=data.preferred_form,
            consent=consent,
        )
        submission = PortalSubmission(
            request=request,
            reply_channel=data.reply_channel,
            reply_contact=(data.reply_contact.strip() if data.reply_channel in MESSENGERS else ""),
            language=_language(),
        )
        submission.full_clean()
        submission.save()
    return request


def _eligibility(*, service: Any, iin: str, full_name: str) -> Any:
    """Run the registry check for a portal client; raise `Ineligible` with a neutral refusal."""
    if not " ".join((full_name or "").split()):
        raise DomainError(_("Enter your full name."), code="full_name_required")
    if not (iin or "").strip():
        raise DomainError(
            _("Enter the IIN: this service checks it in the ЦБД/ЦБДИ registries."),
            code="iin_required",
        )
    try:
        iin = validate_iin(iin)
    except IINError as err:
        raise DomainError(err.message, code="invalid_iin") from None
    result = eligibility_check(actor=None, service=service, iin=iin, full_name=full_name)
    if not result.eligible:
        raise Ineligible(portal_refusal_text(service))
    return result.check


def portal_refusal_text(service: Any) -> str:
    """The portal's refusal after a negative check: polite, the same for every reason."""
    text = _(
        "We are sorry: we could not confirm your data in the ЦБД/ЦБДИ registries, so we cannot "
        "book a consultation online. Please check that the IIN and the full name are exactly as "
        "in your identity document and try once more."
    )
    if service.public_phone:
        text += " " + _(
            "If you think this is a mistake, call %(phone)s: an operator will help you."
        ) % {"phone": service.public_phone}
    return text
