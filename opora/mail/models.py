"""E-mail intake and written consultations (regulation 002 §4.6, regulation 004).

A service's official mailbox is read over IMAP; every letter is stored (`InboundMessage`, with its
raw source and attachments) before anything else happens, then either registered as a request
(channel e-mail, preferred form written), joined to the thread of an earlier request, or held in
quarantine (spam, oversized, a service that checks eligibility first). The consultant's answer is
an `OutgoingLetter`: stored first, then sent through the mailbox's SMTP server in the same thread.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from opora.core.fields import EncryptedCharField, EncryptedEmailField, EncryptedTextField
from opora.notifications.models import OutboxRow


class TlsMode(models.TextChoices):
    NONE = "none", _("None (only on a trusted local network)")
    STARTTLS = "starttls", _("STARTTLS")
    SSL = "ssl", _("SSL/TLS from the start")


class Mailbox(models.Model):
    """A service's official mailbox: where letters come in (IMAP) and answers leave (SMTP)."""

    class Assignment(models.TextChoices):
        FIXED = "fixed", _("The responsible consultant named here")
        LEAST_LOADED = "least_loaded", _("The active consultant with the fewest open letters")

    service = models.ForeignKey(
        "core.Service", models.PROTECT, related_name="mailboxes", verbose_name=_("service")
    )
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    imap_host = models.CharField(_("IMAP server"), max_length=255)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_tls = models.CharField(
        _("IMAP encryption"), max_length=16, choices=TlsMode.choices, default=TlsMode.SSL
    )
    imap_user = models.CharField(_("IMAP user"), max_length=255)
    # Secrets: never logged, never shown back in the admin (a password widget without the value).
    imap_password = EncryptedCharField(_("IMAP password"), max_length=255)
    imap_folder = models.CharField(_("IMAP folder"), max_length=255, default="INBOX")
    smtp_host = models.CharField(_("SMTP server"), max_length=255)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=587)
    smtp_tls = models.CharField(
        _("SMTP encryption"), max_length=16, choices=TlsMode.choices, default=TlsMode.STARTTLS
    )
    smtp_user = models.CharField(_("SMTP user"), max_length=255, blank=True)
    smtp_password = EncryptedCharField(_("SMTP password"), max_length=255, blank=True)
    from_address = models.EmailField(_("official address (From)"))
    from_name = models.CharField(_("sender name"), max_length=200, blank=True)
    assignment = models.CharField(
        _("who answers"), max_length=16, choices=Assignment.choices, default=Assignment.FIXED
    )
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible consultant"),
    )
    max_message_bytes = models.PositiveIntegerField(
        _("largest letter accepted, bytes"),
        default=25 * 1024 * 1024,
        help_text=_("A larger letter is kept in quarantine for staff to release."),
    )
    # Where the last fetch got to: UIDs above it are new even if someone marked them read.
    uid_validity = models.BigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.BigIntegerField(default=0, editable=False)
    last_fetch_at = models.DateTimeField(_("last fetched"), null=True, blank=True, editable=False)
    # The exception's class name only: a server's message may echo the user name or the letter.
    last_error = models.CharField(_("last error"), max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service", "name"]
        verbose_name = _("service mailbox")
        verbose_name_plural = _("service mailboxes")
        constraints = [
            models.CheckConstraint(
                condition=Q(assignment="least_loaded") | Q(consultant__isnull=False),
                name="mailbox_fixed_has_consultant",
            ),
            models.UniqueConstraint(fields=["from_address"], name="mailbox_from_address_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.from_address}>"


class InboundMessage(models.Model):
    """A letter that came in, stored as received. Its Message-ID is imported once per mailbox."""

    class Status(models.TextChoices):
        REGISTERED = "registered", pgettext_lazy("letter status", "Registered")
        QUARANTINED = "quarantined", _("In quarantine")
        RELEASED = "released", _("Released from quarantine")

    class QuarantineReason(models.TextChoices):
        SPAM = "spam", _("Marked as spam by the mail server")
        OVERSIZED = "oversized", _("Larger than the mailbox accepts")
        ELIGIBILITY = (
            "eligibility",
            _("The service checks eligibility: an operator registers it after the IIN check"),
        )
        UNREADABLE = "unreadable", _("No readable sender address")

    mailbox = models.ForeignKey(Mailbox, models.PROTECT, related_name="messages")
    # The header's value, or "<sha256…@hash.opora>" of the raw letter when it has none.
    message_id = models.CharField(max_length=500)
    imap_uid = models.BigIntegerField(null=True, blank=True)
    # Receipt (the IMAP server's arrival time): the day the regulation counts from.
    received_at = models.DateTimeField(_("received"), db_index=True)
    # As written in the letter, even if malformed: an unreadable address must not lose the letter.
    # The sender and the letter are personal data: encrypted at rest (core.sensitive).
    from_address = EncryptedCharField(pgettext_lazy("letter", "from"), max_length=254, blank=True)
    from_name = EncryptedCharField(_("sender name"), max_length=400, blank=True)
    reply_to = EncryptedCharField(max_length=254, blank=True)
    subject = EncryptedCharField(_("subject"), max_length=500, blank=True)
    body_text = EncryptedTextField(_("text"), blank=True)
    in_reply_to = models.CharField(max_length=500, blank=True)
    references = models.TextField(blank=True)
    size = models.PositiveIntegerField(_("size, bytes"), default=0)
    raw = models.FileField(upload_to="mail/raw/%Y/%m/", max_length=300)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    quarantine_reason = models.CharField(
        _("quarantine reason"), max_length=16, choices=QuarantineReason.choices, blank=True
    )
    request = models.ForeignKey(
        "intake.ServiceRequest",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="inbound_messages",
    )
    # "Within 3 working days" of receipt (service calendar); cleared facts live on the answer.
    # Issue 15: the complaint staff registered from this letter (regulation 000 §16, by e-mail).
    complaint = models.ForeignKey(
        "complaints.Complaint", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_on = models.DateField(_("answer due"), null=True, blank=True)
    answered_by = models.ForeignKey(
        "OutgoingLetter", models.SET_NULL, null=True, blank=True, related_name="answers"
    )
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_at", "pk"]
        verbose_name = _("incoming letter")
        verbose_name_plural = _("incoming letters")
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "message_id"], name="inbound_message_id_once_per_mailbox"
            ),
            models.CheckConstraint(
                condition=~Q(status="quarantined") | ~Q(quarantine_reason=""),
                name="inbound_quarantine_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status="quarantined") | Q(request__isnull=False),
                name="inbound_registered_has_request",
            ),
        ]
        indexes = [
            models.Index(fields=["message_id"]),
            models.Index(fields=["status", "due_on"]),
        ]

    def __str__(self) -> str:
        return f"inbound#{self.pk}"


class Attachment(models.Model):
    """A file attached to an incoming letter, kept in Django's storage."""

    message = models.ForeignKey(InboundMessage, models.CASCADE, related_name="attachments")
    # Stored sealed under a neutral name (mail.files): the sender's file name is personal data
    # ("Ivanova_certificate.pdf"), so it is kept only here, encrypted (core.sensitive).
    file = models.FileField(upload_to="mail/attachments/%Y/%m/", max_length=300)
    filename = EncryptedCharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=150, default="application/octet-stream")
    size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return f"attachment#{self.pk}"


class OutgoingLetter(OutboxRow):
    """A written answer: stored first, then sent by the one outbox; never sent twice by us."""

    request = models.ForeignKey(
        "intake.ServiceRequest", models.PROTECT, related_name="outbound_messages"
    )
    mailbox = models.ForeignKey(Mailbox, models.PROTECT, related_name="outbound_messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message_id = models.CharField(max_length=500, unique=True)
    in_reply_to = models.CharField(max_length=500, blank=True)
    references = models.TextField(blank=True)
    to_address = EncryptedEmailField(pgettext_lazy("letter", "to"), max_length=254)
    subject = EncryptedCharField(_("subject"), max_length=500)
    body = EncryptedTextField(_("answer"))
    # The form's one-time key: a double click or a resubmitted form stores one answer.
    submission_key = models.CharField(max_length=64, unique=True, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(_("written"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("written answer")
        verbose_name_plural = _("written answers")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="outbound_sent_has_time",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"outbound#{self.pk}"


class OutgoingAttachment(models.Model):
    """A file sent with a written answer (regulation 004: documents, regulations the client asked
    for); links are written in the answer itself."""

    letter = models.ForeignKey(OutgoingLetter, models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="mail/outgoing/%Y/%m/", max_length=300)
    # A document's name may name the family: encrypted at rest.
    filename = EncryptedCharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=150, default="application/octet-stream")
    size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("file of an answer")
        verbose_name_plural = _("files of answers")

    def __str__(self) -> str:
        return f"outgoing-attachment#{self.pk}"
