"""Complaints by e-mail (regulation 000 §16; issue 15): a letter that reads as a complaint
(«жалоба», «шағым», "complaint" in its subject or text) is offered to staff on its thread page,
and one click registers it through `complaints.services.complaint_from_letter` — once per letter.
The decision stays with staff: a letter is never registered as a complaint by itself."""

from __future__ import annotations

from django.db import transaction

from opora.accounts.actors import Actor
from opora.complaints.models import Complaint
from opora.complaints.services import complaint_from_letter, looks_like_complaint
from opora.mail.locks import inbound_messages_select_for_update
from opora.mail.models import InboundMessage


def letter_is_complaint_candidate(message: InboundMessage) -> bool:
    """Offer the letter as a complaint: it reads as one and is not registered yet."""
    return message.complaint_id is None and looks_like_complaint(message.subject, message.body_text)


@transaction.atomic
def letter_register_complaint(*, actor: Actor, message: InboundMessage) -> Complaint:
    """Register the letter as a complaint (staff confirmed it); a second click returns the same
    complaint. The complaints app checks who may register and audits it."""
    locked = inbound_messages_select_for_update().get(pk=message.pk)
    if locked.complaint_id is not None:
        return Complaint.objects.get(pk=locked.complaint_id)
    text = "\n\n".join(p for p in (locked.subject.strip(), locked.body_text.strip()) if p)
    complaint = complaint_from_letter(
        actor=actor,
        service=locked.mailbox.service,
        sender_email=locked.from_address,
        sender_name=locked.from_name,
        text=text,
        request_code=(locked.request.public_code or "") if locked.request else "",
        received_at=locked.received_at,
    )
    locked.complaint = complaint
    locked.save(update_fields=["complaint"])
    return complaint
