"""The one way to write the audit log. Call it inside the transaction of the change it records:
the event is inserted unsealed, with no lock; `core.audit_chain.audit_seal` chains it later (and
has the verifier)."""

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models, router
from django.utils import timezone

from opora.core.actors import AuditActor, ClientActor, SystemActor
from opora.core.audit_chain import normalised_extra
from opora.core.models import AuditEvent


class AuditEventType(models.TextChoices):
    """Every kind of audit event, in one place. The values are stored: never change one (a rename
    needs a data migration of the rows already written); add a member for a new event."""

    ADMIN_CREATED = "admin.created"
    ADMIN_CHANGED = "admin.changed"
    ADMIN_DELETED = "admin.deleted"

    AUDIT_CHAIN_BROKEN = "audit.chain_broken"
    AUDIT_CHAIN_VERIFIED = "audit.chain_verified"
    AUDIT_DETAILS_OPENED = "audit.details_opened"
    AUDIT_LOG_EXPORTED = "audit.log_exported"
    AUDIT_LOG_VIEWED = "audit.log_viewed"

    API_TOKEN_CREATED = "api_token.created"  # noqa: S105 (an event name)
    API_TOKEN_REVOKED = "api_token.revoked"  # noqa: S105 (an event name)

    AUTH_2FA_ENABLED = "auth.2fa_enabled"
    AUTH_2FA_VERIFIED = "auth.2fa_verified"
    AUTH_RECOVERY_CODES_CREATED = "auth.recovery_codes_created"
    AUTH_SESSION_IDLE_ENDED = "auth.session_idle_ended"
    AUTH_SIGNED_OUT_EVERYWHERE = "auth.signed_out_everywhere"
    AUTH_WEBAUTHN_FAILED = "auth.webauthn_failed"
    AUTH_WEBAUTHN_REGISTERED = "auth.webauthn_registered"
    AUTH_WEBAUTHN_REMOVED = "auth.webauthn_removed"
    AUTH_WEBAUTHN_USED = "auth.webauthn_used"

    BREACH_ALERTED = "breach.alerted"
    BREACH_REGISTERED = "breach.registered"
    BREACH_UPDATED = "breach.updated"
    BREACH_REGISTER_EXPORTED = "breach.register_exported"

    BOOKING_CANCELLED = "booking.cancelled"
    BOOKING_CREATED = "booking.created"
    BOOKING_RESCHEDULED = "booking.rescheduled"

    CHAT_FILE_DOWNLOADED = "chat.file_downloaded"
    CHAT_FILE_SENT = "chat.file_sent"

    COMPLAINT_ANSWERED = "complaint.answered"
    COMPLAINT_ASSIGNED = "complaint.assigned"
    COMPLAINT_CASE_READ = "complaint.case_read"
    COMPLAINT_CLOSED = "complaint.closed"
    COMPLAINT_DISPUTED = "complaint.disputed"
    COMPLAINT_FOLLOWED = "complaint.followed"
    COMPLAINT_RECORDING_REQUESTED = "complaint.recording_requested"
    COMPLAINT_REGISTERED = "complaint.registered"
    COMPLAINT_VIEWED = "complaint.viewed"

    CONSULTATION_CREATED = "consultation.created"
    CONSULTATION_CRISIS = "consultation.crisis"
    CONSULTATION_ENDED = "consultation.ended"
    CONSULTATION_MODE = "consultation.mode"
    CONSULTATION_NEXT_BOOKED = "consultation.next_booked"
    CONSULTATION_NO_SHOW = "consultation.no_show"
    CONSENT_GIVEN = "consent.given"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    CONSULTATION_RECORDING_CONSENT = "consultation.recording_consent"
    CONSULTATION_RECORDING_NOTICE = "consultation.recording_notice"
    CONSULTATION_ROOM_OPENED = "consultation.room_opened"
    CONSULTATION_STARTED = "consultation.started"
    CONSULTATION_TECHNICAL_FAILURE = "consultation.technical_failure"
    CONSULTATION_FAILURE_ACCEPTED = "consultation.failure_accepted"
    CONSULTATION_FAILURE_REJECTED = "consultation.failure_rejected"
    CONSULTATION_FAILURE_REBOOKED = "consultation.failure_rebooked"
    CONSULTATION_PREPARATION = "consultation.preparation"
    CONSULTATION_HELD = "consultation.held"
    CONSULTATION_NOT_HELD = "consultation.not_held"
    CONSULTATION_STARTED_NOW = "consultation.started_now"
    CONSULTATION_WRITTEN_TAKEN = "consultation.written_taken"
    CONSULTATION_WRITTEN_ANSWERED = "consultation.written_answered"
    CONSULTATION_MATERIALS_GIVEN = "consultation.materials_given"

    EVENT_ANNOUNCEMENT_SENT = "event.announcement_sent"
    EVENT_CANCELLED = "event.cancelled"
    EVENT_CERTIFICATES_ISSUED = "event.certificates_issued"
    EVENT_CREATED = "event.created"
    EVENT_INVITEES_LISTED = "event.invitees_listed"
    EVENT_NOTE_WRITTEN = "event.note_written"
    EVENT_RECORDING_CONSENT = "event.recording_consent"
    EVENT_REGISTERED = "event.registered"
    EVENT_REGISTRATION_CANCELLED = "event.registration_cancelled"
    EVENT_REGISTRATION_PROMOTED = "event.registration_promoted"
    EVENT_UPDATED = "event.updated"

    HANDOFF_SENT = "handoff.sent"

    REPORT_ANSWERED = "report.answered"
    REPORT_CORRECTED = "report.corrected"
    REPORT_DRAFTED = "report.drafted"
    REPORT_SENT = "report.sent"
    REPORT_SIGNED = "report.signed"
    PLACE_CREATED = "place.created"
    PLACE_UPDATED = "place.updated"
    PLACE_DEACTIVATED = "place.deactivated"
    SLOT_FORM_SET = "slot.form_set"

    RETENTION_APPLIED = "retention.applied"

    INTAKE_APPEALS_EXPORTED = "intake.appeals_exported"
    INTAKE_APPEALS_VIEWED = "intake.appeals_viewed"
    INTAKE_CLIENT_CREATED = "intake.client_created"
    INTAKE_CLIENT_UPDATED = "intake.client_updated"
    INTAKE_CLIENT_VIEWED = "intake.client_viewed"
    INTAKE_REFERRAL_CREATED = "intake.referral_created"
    INTAKE_REFERRAL_UPDATED = "intake.referral_updated"
    INTAKE_REQUEST_CHECKED = "intake.request_checked"
    INTAKE_REQUEST_COUNTED_SEPARATELY = "intake.request_counted_separately"
    INTAKE_REQUEST_COUNTED_WITH = "intake.request_counted_with"
    INTAKE_REQUEST_CREATED = "intake.request_created"
    INTAKE_REQUEST_CREATED_FROM = "intake.request_created_from"
    INTAKE_REQUEST_MARKED_ANONYMOUS = "intake.request_marked_anonymous"
    INTAKE_REQUEST_DONE = "intake.request_done"
    INTAKE_REQUEST_NO_SHOW = "intake.request_no_show"
    INTAKE_REQUEST_REDIRECTED = "intake.request_redirected"
    INTAKE_REQUEST_REFERRED = "intake.request_referred"
    INTAKE_REQUEST_REFUSED = "intake.request_refused"
    INTAKE_REQUEST_REOPENED = "intake.request_reopened"
    INTAKE_REQUEST_RESTORED = "intake.request_restored"
    INTAKE_REQUEST_TOPIC_SET = "intake.request_topic_set"
    INTAKE_CHILD_HELP_REFERRED = "intake.child_help_referred"
    INTAKE_REQUESTS_EXPORTED = "intake.requests_exported"
    INTAKE_REQUESTS_VIEWED = "intake.requests_viewed"

    JOURNAL_EXPORTED = "journal.exported"
    JOURNAL_VIEWED = "journal.viewed"

    MAIL_ANSWER_OVERDUE = "mail.answer_overdue"
    LATE_BOOKING_FLAGGED = "request.late_booking_flagged"
    MAIL_ANSWER_SENT = "mail.answer_sent"
    MAIL_ANSWER_WRITTEN = "mail.answer_written"
    MAIL_LETTER_JOINED_THREAD = "mail.letter_joined_thread"
    MAIL_LETTER_QUARANTINED = "mail.letter_quarantined"
    MAIL_LETTER_REGISTERED = "mail.letter_registered"
    MAIL_LETTER_RELEASED = "mail.letter_released"
    MAIL_MAILBOX_CHANGED = "mail.mailbox_changed"
    MAIL_MAILBOX_CREATED = "mail.mailbox_created"
    MAIL_REQUEST_ASSIGNED = "mail.request_assigned"
    MAIL_REQUEST_REOPENED = "mail.request_reopened"
    MAIL_THREAD_VIEWED = "mail.thread_viewed"

    MESSENGERS_CONVERSATION_READ = "messengers.conversation_read"
    MESSENGERS_REPLY_SENT = "messengers.reply_sent"
    MESSENGERS_REPLY_FILE_DOWNLOADED = "messengers.reply_file_downloaded"

    OUTBOX_DELIVERY_RETRIED = "outbox.delivery_retried"

    PORTAL_CONTACT_CODE_SENT = "portal.contact_code_sent"

    PROTOCOL_CREATED = "protocol.created"
    PROTOCOL_UPDATED = "protocol.updated"

    QUALITY_EVALUATION_SUBMITTED = "quality.evaluation_submitted"
    QUALITY_LOW_SCORE_ALERTED = "quality.low_score_alerted"
    QUALITY_OWN_RESULTS_VIEWED = "quality.own_results_viewed"
    QUALITY_RESULTS_VIEWED = "quality.results_viewed"

    RESPONSIBLE_PERSON_CHANGED = "responsible.person_changed"
    RESPONSIBLE_PERSONS_VIEWED = "responsible.persons_viewed"

    RECORDING_ABANDONED = "recording.abandoned"
    RECORDING_ACCESSED = "recording.accessed"
    RECORDING_FINISHED = "recording.finished"
    RECORDING_RELEASE_REQUESTED = "recording.release_requested"
    RECORDING_RELEASED = "recording.released"
    RECORDING_STARTED = "recording.started"

    REGISTRY_ELIGIBILITY_CHECK_VIEWED = "registry.eligibility_check_viewed"
    REGISTRY_ELIGIBILITY_CHECKED = "registry.eligibility_checked"
    REGISTRY_IMPORT_FAILED = "registry.import_failed"
    REGISTRY_IMPORTED = "registry.imported"
    REGISTRY_RECORD_VIEWED = "registry.record_viewed"

    REQUEST_VIEWED = "request.viewed"

    SCHEDULE_APPROVED = "schedule.approved"
    SCHEDULE_RETURNED = "schedule.returned"
    SCHEDULE_SAVED = "schedule.saved"
    SCHEDULE_SUBMITTED = "schedule.submitted"

    STAFF_SERVICE_CHOSEN = "staff.service_chosen"

    SURVEY_ASSIGNED = "survey.assigned"
    SURVEY_INSTRUMENT_SAVED = "survey.instrument_saved"
    SURVEY_RESULT_VIEWED = "survey.result_viewed"
    SURVEY_RESULTS_VIEWED = "survey.results_viewed"
    SURVEY_RISK_ALERTED = "survey.risk_alerted"
    SURVEY_SUBMITTED = "survey.submitted"


# Reads of personal data whose details (`extra`: what was looked at, with which filters) the
# audit viewer shows only with a written reason (break-glass). Read events end in these words.
_READ_WORDS = ("viewed", "read", "exported", "downloaded", "accessed", "checked")


def is_personal_data_read(event_type: str) -> bool:
    action = event_type.rpartition(".")[2]
    return event_type == AuditEventType.AUDIT_DETAILS_OPENED or any(
        action == word or action.endswith("_" + word) for word in _READ_WORDS
    )


def _checked(event_type: AuditEventType) -> AuditEventType:
    """Only members of `AuditEventType` are recorded: a misspelt or ad-hoc name fails loudly."""
    try:
        return AuditEventType(event_type)
    except ValueError:
        raise ValueError(
            f"Unknown audit event type {event_type!r}: add it to AuditEventType."
        ) from None


def actor_label(actor: AuditActor) -> str:
    """Who acted, as kept on the event: the username and the role at the time, or which part of
    Opora or which channel of a client — never a personal name."""
    if isinstance(actor, AbstractBaseUser):
        role = getattr(actor, "role", "") or (
            "superuser" if getattr(actor, "is_superuser", False) else ""
        )
        name = actor.get_username()
        return f"{name} ({role})" if role else name
    if isinstance(actor, SystemActor):
        return f"system:{actor.name}"
    if isinstance(actor, ClientActor):
        return f"client:{actor.channel}"
    return ""


def audit_event(
    *,
    actor: AuditActor,
    event_type: AuditEventType,
    subject: models.Model,
    extra: dict[str, Any] | None = None,
) -> AuditEvent:
    """The event `audit_record` writes, not yet saved: pass it to `audit_append` once the subject
    has its id.

    `extra` must never carry IINs, names or free text written by or about a client.
    """
    if subject.pk is None:
        raise ValueError("Audit an object once it is saved: the event names its id.")
    return AuditEvent(
        actor_id=actor.pk if isinstance(actor, AbstractBaseUser) else None,
        actor_label=actor_label(actor),
        event_type=_checked(event_type).value,
        subject_type=subject._meta.label_lower,
        subject_id=str(subject.pk),
        extra=extra or {},
    )


def audit_append(event: AuditEvent) -> AuditEvent:
    """Insert `event` unsealed (`seq`, `prev_hash`, `hash` NULL): no lock, nothing shared is
    touched, so audited writers do not wait for one another. The sealer
    (`core.audit_chain.audit_seal`, every minute) numbers and chains it after the commit."""
    event.seq = event.prev_hash = event.hash = None
    event.created_at = timezone.now()
    event.extra = normalised_extra(event.extra)
    event.save(using=router.db_for_write(AuditEvent), force_insert=True)
    return event


def audit_record(
    *,
    actor: AuditActor,
    event_type: AuditEventType,
    subject: models.Model,
    extra: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record `event_type` on `subject` by `actor` (a user's id and label; a client or Opora
    itself by label only).

    `extra` must never carry IINs, names or free text written by or about a client.
    """
    return audit_append(
        audit_event(actor=actor, event_type=event_type, subject=subject, extra=extra)
    )
