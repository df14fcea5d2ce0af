"""Admin: mailboxes are configured here (passwords never shown back); letters are read-only."""

from __future__ import annotations

from django.contrib import admin

from opora.core.admin_base import AuditedAdmin, ReadOnlyAdmin, SecretFieldsForm
from opora.core.audit import AuditEventType
from opora.mail.models import InboundMessage, Mailbox, OutgoingLetter


class MailboxForm(SecretFieldsForm):
    """A password left empty keeps the stored one; the stored one is never sent to the browser."""

    secret_fields = ("imap_password", "smtp_password")
    required_secrets = ("imap_password",)

    class Meta:
        model = Mailbox
        fields = [
            "service",
            "name",
            "is_active",
            "from_address",
            "from_name",
            "imap_host",
            "imap_port",
            "imap_tls",
            "imap_user",
            "imap_password",
            "imap_folder",
            "smtp_host",
            "smtp_port",
            "smtp_tls",
            "smtp_user",
            "smtp_password",
            "assignment",
            "consultant",
            "max_message_bytes",
        ]


@admin.register(Mailbox)
class MailboxAdmin(AuditedAdmin):
    form = MailboxForm
    list_display = ["name", "service", "from_address", "is_active", "last_fetch_at", "last_error"]
    list_filter = ["service", "is_active"]
    readonly_fields = ["last_fetch_at", "last_error"]
    fieldsets = [
        (None, {"fields": ["service", "name", "is_active", "from_address", "from_name"]}),
        (
            "IMAP",
            {
                "fields": [
                    "imap_host",
                    "imap_port",
                    "imap_tls",
                    "imap_user",
                    "imap_password",
                    "imap_folder",
                ]
            },
        ),
        ("SMTP", {"fields": ["smtp_host", "smtp_port", "smtp_tls", "smtp_user", "smtp_password"]}),
        (
            None,
            {
                "fields": [
                    "assignment",
                    "consultant",
                    "max_message_bytes",
                    "last_fetch_at",
                    "last_error",
                ]
            },
        ),
    ]

    # Audited by the base (the changed fields' names, never the passwords), under the
    # mailbox's own event names.
    created_event = AuditEventType.MAIL_MAILBOX_CREATED
    changed_event = AuditEventType.MAIL_MAILBOX_CHANGED


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    # Metadata only in the lists; the text is read on the staff page, where the read is audited.
    list_display = ["received_at", "mailbox", "status", "quarantine_reason", "request", "size"]
    list_filter = ["status", "quarantine_reason", "mailbox"]
    fields = [
        "mailbox",
        "message_id",
        "received_at",
        "status",
        "quarantine_reason",
        "request",
        "due_on",
        "size",
    ]


@admin.register(OutgoingLetter)
class OutgoingLetterAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "request", "status", "attempts", "last_error", "sent_at"]
    list_filter = ["status"]
    fields = [
        "request",
        "mailbox",
        "message_id",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "sent_at",
    ]
