"""The one list of personal data that Opora stores, and what each entry drives.

`SENSITIVE` names every column (or sealed value) holding personal data, with its kind. It drives:

- **encryption at rest**: every entry is an `EncryptedMixin` field (`core.fields`) or a value
  sealed by its model (`registry.sealing`); `core/tests/test_sensitive.py` fails when a listed
  column is not encrypted or an encrypted column is not listed, and `opora rotate_keys`
  re-encrypts exactly these;
- **blind indexes**: the kinds "iin", "phone", "email" and "name" are searchable through keyed
  hashes (`core.crypto.blind_index`) in the columns the models declare beside them;
- **log scrubbing** (hook): `kinds()` tells a log filter which values to mask — the filter in
  `core.logging` masks IIN-shaped digits already; per-kind masks read this list;
- **export coding** (hook): an export of personal data (journals, reports) replaces the values of
  the kinds "iin", "name", "phone", "email" with codes (regulation 004), by this list;
- **retention** (hook): the retention job anonymises the listed columns of a record past its term
  (empty string, blind index recomputed), keeping the non-personal columns that reports count.

Add a field here when a model gains personal data; the test above keeps the list honest.
"""

from __future__ import annotations

from typing import Any

# model label → {field name → kind}. Kinds: iin, name, phone, email, text (free text that may
# hold anything personal), health (disability group), token (a secret link), birth_date, address,
# contact (a phone, an e-mail or a messenger id), secret (a password or key Opora uses).
SENSITIVE: dict[str, dict[str, str]] = {
    "registry.registryrecord": {
        # Sealed together in `sealed` (registry.sealing), indexed by iin_bidx / child_iin_bidx.
        "iin": "iin",
        "child_iin": "iin",
        "last_name": "name",
        "first_name": "name",
        "patronymic": "name",
        "category": "health",
        "birth_date": "date",  # kind "date": a person's birth date
        "valid_until": "health",  # when the disability status ends
    },
    "registry.eligibilitycheck": {"iin": "iin", "full_name": "name", "child_iin": "iin"},
    "intake.client": {
        "last_name": "name",
        "first_name": "name",
        "patronymic": "name",
        "iin": "iin",
        "phone": "phone",
        "phone_extra": "phone",
        "email": "email",
    },
    "intake.child": {"iin": "iin", "full_name": "name", "birth_date": "birth_date"},
    "intake.servicerequest": {
        "full_name": "name",
        "iin": "iin",
        "phone": "phone",
        "phone_extra": "phone",
        "email": "email",
        "reason": "text",
        "referral_text": "text",
        "refusal_note": "text",
        "public_token": "token",
    },
    "intake.childhelpreferral": {"note": "text", "message": "text"},
    "consultations.consultation": {"client_token": "token"},
    "consultations.technicalfailure": {"details": "text", "rejection_reason": "text"},
    "consultations.chatattachment": {"name": "text"},
    "consultations.recordingaccess": {"reason": "text"},
    "consultations.recordingrelease": {"recipient": "name", "reason": "text"},
    "complaints.complaint": {
        "complainant_name": "name",
        "phone": "phone",
        "email": "email",
        "postal_address": "address",
        "text": "text",
        "answer": "text",
        "disagreement": "text",
    },
    "events.event": {"room_secret": "secret"},
    "events.registration": {
        "full_name": "name",
        "second_full_name": "name",
        "phone": "phone",
        "email": "email",
        # The de-duplication key (a phone's digits or an e-mail), indexed by contact_key.
        "contact": "contact",
        "note": "text",
        "token": "token",
    },
    "events.certificate": {"full_name": "name"},
    "events.roommessage": {"author": "name", "text": "text"},
    "events.eventrecordingaccess": {"reason": "text"},
    "accounts.responsibleperson": {"full_name": "name", "phone": "phone", "email": "email"},
    "portal.portalsubmission": {"reply_contact": "contact"},
    "scheduling.schedule": {"comment": "text"},
    "scheduling.booking": {"cancel_reason": "text", "visit_address": "address"},
    "quality.evaluation": {"impressions": "text", "wishes": "text"},
    "reports.report": {"reason": "text", "answer_comment": "text"},
    "consultations.chatmessage": {"text": "text"},
    "consultations.protocol": {
        "child_name": "name",
        "reason": "text",
        "solution": "text",
        "materials": "text",
        "next_consultation": "text",
        "note": "text",
    },
    "messengers.conversationmessage": {"text": "text", "attachments": "text"},
    "messengers.conversation": {
        "display_name": "name",
        "draft": "text",
        # A WhatsApp id is the phone number; indexed by external_chat_id_bidx.
        "external_chat_id": "contact",
        "external_user_id": "contact",
    },
    # The stored webhook delivery: text, name, phone of the client (JSON, sealed as one value).
    "messengers.inboundupdate": {"payload": "text"},
    "messengers.outgoingchatmessage": {"text": "text", "file_name": "text"},
    "mail.inboundmessage": {
        "from_address": "email",
        "from_name": "name",
        "reply_to": "email",
        "subject": "text",
        "body_text": "text",
    },
    # The sender's file name (the file itself is sealed on storage under a neutral name).
    "mail.attachment": {"filename": "text"},
    "mail.outgoingattachment": {"filename": "text"},
    "notifications.notificationattachment": {"filename": "text", "content": "text"},
    "mail.outgoingletter": {"to_address": "email", "subject": "text", "body": "text"},
    "notifications.notification": {
        "recipient": "contact",
        "subject": "text",
        "body": "text",
        "html_body": "text",
        "action_url": "token",
    },
    "surveys.response": {"answers": "health"},
    "mail.mailbox": {"imap_password": "secret", "smtp_password": "secret"},
    "messengers.channelaccount": {
        "token": "secret",
        "webhook_secret": "secret",
        "app_secret": "secret",
    },
}

# Models that seal several values into one column and re-encrypt themselves: label → the dotted
# path of `reseal(model, *, using, reindex) -> int` (looked up by name: core imports no app).
SEALED_BY_MODEL: dict[str, str] = {
    "registry.registryrecord": "opora.registry.sealing.reseal_rows",
}


def kinds(label: str) -> dict[str, str]:
    return SENSITIVE.get(label, {})


def with_indexes(model: Any, fields: list[str] | set[str]) -> list[str]:
    """`update_fields` widened by the blind indexes and name tokens derived from `fields`."""
    from opora.core.fields import BlindIndexField, NameTokensField

    out = list(dict.fromkeys(fields))
    for f in model._meta.concrete_fields:
        if isinstance(f, BlindIndexField) and f.source in fields:
            out.append(f.name)
        elif isinstance(f, NameTokensField) and set(f.sources) & set(fields):
            out.append(f.name)
    return list(dict.fromkeys(out))
