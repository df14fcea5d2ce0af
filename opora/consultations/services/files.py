"""Files in the chat (regulation 002 §4.3.2)."""

import hashlib
import secrets

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from opora.accounts.actors import Actor
from opora.consultations import files as chat_files
from opora.consultations import locks, selectors
from opora.consultations import recording as recording_crypto
from opora.consultations.models import (
    ChatAttachment,
    ChatMessage,
    Consultation,
)
from opora.consultations.services.recording import _announce
from opora.consultations.services.room import CLOSED_STATUSES, _chat_append
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError, NotFound

# --- Files in the chat (regulation 002 §4.3.2) -----------------------------------------------------


def chat_file_create(
    *, consultation_id: int, sender: str, name: str, data: bytes, client_msg_id: str = ""
) -> ChatMessage:
    """Store a file sent in the room's chat as the next chat line, encrypted at rest, and send it
    to the room. The type is checked by extension and content, the size against the limit
    (`DomainError` naming the limit or the allowed types)."""
    ext, content_type = chat_files.check_file(name, data)
    name = chat_files.clean_name(name)
    client_msg_id = (client_msg_id or "")[:64]
    if client_msg_id:
        existing = ChatMessage.objects.filter(
            consultation_id=consultation_id, sender=sender, client_msg_id=client_msg_id
        ).first()
        if existing is not None:
            return existing
    data_key, key_id, wrapped = recording_crypto.new_data_key()
    blob = recording_crypto.encrypt(
        data_key, data, aad=recording_crypto.attachment_aad(consultation_id)
    )
    stored = recording_crypto.store_blob(
        f"chat/{consultation_id}/{secrets.token_hex(12)}.bin", blob
    )
    try:
        with transaction.atomic():
            c = locks.consultation_qs_select_for_update().get(pk=consultation_id)
            if c.status in CLOSED_STATUSES:
                raise DomainError(_("The consultation is closed."), code="closed")
            message = _chat_append(c, sender=sender, text=name, client_msg_id=client_msg_id)
            attachment = ChatAttachment(
                message=message,
                name=name,
                content_type=content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                key_id=key_id,
                wrapped_key=wrapped,
                storage_name=stored,
            )
            attachment.full_clean(exclude=["message"])
            attachment.save()
            audit_record(
                actor=None,
                event_type=AuditEventType.CHAT_FILE_SENT,
                subject=c,
                extra={"seq": message.seq, "sender": sender, "size": len(data), "type": ext},
            )
            payload = selectors.chat_message_payload(message)
            _announce(c.pk, {"type": "chat", **payload})
    except BaseException:
        recording_crypto.delete_blob(stored)
        raise
    return message


@transaction.atomic
def chat_file_read(
    *, consultation: Consultation, seq: int, actor: Actor | None, reader: str
) -> tuple[ChatAttachment, bytes]:
    """The decrypted file of chat line `seq` for one of the two participants (`reader` is
    "client" or "consultant"; the caller has checked the token or the login). Logged."""
    attachment = (
        ChatAttachment.objects.select_related("message")
        .filter(message__consultation=consultation, message__seq=seq)
        .first()
    )
    if attachment is None:
        raise NotFound(_("There is no such file in this consultation."))
    data_key = recording_crypto.unwrap_key(key_id=attachment.key_id, wrapped=attachment.wrapped_key)
    data = recording_crypto.decrypt(
        data_key,
        recording_crypto.read_blob(attachment.storage_name),
        aad=recording_crypto.attachment_aad(consultation.pk),
    )
    audit_record(
        actor=actor,
        event_type=AuditEventType.CHAT_FILE_DOWNLOADED,
        subject=consultation,
        extra={"seq": seq, "by": reader},
    )
    return attachment, data
