"""Regulation 004: «Службы не оказывают помощь детям … В случае если запрос получателя Услуги
подразумевает оказание помощи непосредственно ребенку, консультанты разъясняют порядок и условия
оказания необходимой помощи ребенку и (или) рекомендуют обратиться в соответствующие органы и
организации.» A request (or the consultant after the consultation) marks that the child needs
direct help; the client gets the scripted explanation and the organisations' contacts through
the outbox, and the referral is kept on the request."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from opora.accounts.actors import Actor
from opora.accounts.models import User
from opora.accounts.policy import Action, require
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError
from opora.intake import locks
from opora.intake.models import ChildHelpReferral, Referral, ServiceRequest
from opora.intake.services import ReferralVia, _referral_recipient, referral_message
from opora.notifications.services import notification_create

NOTE_MAX = 2000


def child_help_script() -> str:
    """The scripted explanation, in the words of regulation 004 (active language)."""
    return _(
        "The service helps parents and legal representatives; it does not give help to children "
        "themselves. At most, the child may be present while the parent is consulted, when there "
        "is no other way to look after them. Your request needs help for the child directly: "
        "the bodies and organisations below provide it. Contact them; they will explain the "
        "procedure and the conditions of the help the child needs."
    )


def child_help_message(*, request: ServiceRequest, organisations: Sequence[Referral]) -> str:
    """The message to the client: the script, then each organisation and how to reach it."""
    parts = [
        _("Your request %(code)s.") % {"code": request.public_code or request.pk},
        child_help_script(),
        *(referral_message(entry) for entry in organisations),
    ]
    return "\n\n".join(parts)


@transaction.atomic
def child_help_refer(
    *,
    actor: Actor,
    request: ServiceRequest,
    organisations: Sequence[Referral],
    source: str = ChildHelpReferral.Source.REQUEST,
    note: str = "",
) -> ChildHelpReferral:
    """Mark that the child needs direct help: store the referral and send the client the
    scripted explanation with the chosen directory entries (an outbox row, delivered after
    commit, the way the client came). The request itself goes on: the parent may still be
    consulted. Once per request."""
    require(actor, Action.REQUEST_CHILD_HELP, service=request.service)
    if source not in ChildHelpReferral.Source.values:
        raise DomainError(_("Unknown source of the mark."), code="source")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise DomainError(
            _("The note is too long: at most %(max)s characters.") % {"max": NOTE_MAX},
            code="note",
        )
    ids = {o.pk for o in organisations}
    entries = list(Referral.objects.filter(pk__in=ids, is_active=True).order_by("name"))
    if not ids:
        raise DomainError(
            _("Choose at least one organisation from the directory that helps children."),
            code="organisations",
        )
    if len(entries) != len(ids):
        raise DomainError(
            _("This organisation is no longer in the referral directory; choose another."),
            code="organisations",
        )
    locked = (
        locks.service_request_qs_select_for_update().select_related("service").get(pk=request.pk)
    )
    if ChildHelpReferral.objects.filter(request=locked).exists():
        raise DomainError(
            _("The client has already been sent the explanation and the referral."),
            code="already",
        )
    recipient = _referral_recipient(locked, ReferralVia.CHANNEL)
    # The client's language of help where known, else the service's first language.
    with translation.override(locked.language or "ru"):
        message = child_help_message(request=locked, organisations=entries)
        subject = _("Help for your child: where to turn")
    record = ChildHelpReferral(
        request=locked,
        source=source,
        note=note,
        message=message,
        sent_via=recipient[0] if recipient else "",
        created_by=actor if isinstance(actor, User) else None,
    )
    record.full_clean(exclude=["request", "created_by"])
    record.save()
    record.organisations.set(entries)
    if recipient is not None:
        channel, address = recipient
        notification_create(
            channel=channel,
            recipient=address,
            subject=subject,
            body=message,
            kind="child_help_referral",
            about=locked,
            dedupe_key=f"child_help_referral:{locked.pk}:{channel}",
        )
    audit_record(
        actor=actor,
        event_type=AuditEventType.INTAKE_CHILD_HELP_REFERRED,
        subject=locked,
        extra={
            "organisations": sorted(ids),
            "source": source,
            "notified": recipient[0] if recipient else None,
        },
    )
    return record
