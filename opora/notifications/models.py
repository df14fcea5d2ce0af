"""Every message to a client is a record first, then sent after commit (e-mail, SMS, messenger).

`OutboxRow` is the one shape of every outgoing message of every app (notifications here, written
answers in mail, chat messages in messengers): the delivery state `opora.notifications.outbox`
reads and writes, the same for all of them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from opora.core.fields import (
    BlindIndexField,
    EncryptedBinaryField,
    EncryptedCharField,
    EncryptedTextField,
)


class OutboxStatus(models.TextChoices):
    # Waiting for its first attempt, or for the next one (`next_attempt_at`) after a failure.
    QUEUED = "queued", _("Waiting to be sent")
    # Claimed by a worker (`claimed_at`); a lease older than the outbox's lease is taken over.
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    # Gave up after the last attempt (or a refusal that no retry can mend): shown to the heads.
    FAILED = "failed", _("Not sent: gave up")


class OutboxRow(models.Model):
    """The delivery state every outgoing message shares (see `notifications.outbox`)."""

    Status = OutboxStatus

    status = models.CharField(
        _("status"), max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The exception's class name or the provider's short reason: never the message or an address.
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        abstract = True


class Notification(OutboxRow):
    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        # Delivered by the sender a messenger app registers (notifications.channels); the recipient
        # is that app's conversation id, so this app needs no import of it.
        TELEGRAM = "telegram", _("Telegram")
        WHATSAPP = "whatsapp", _("WhatsApp")
        VIBER = "viber", _("Viber")
        VK = "vk", _("VK")

    channel = models.CharField(max_length=16, choices=Channel.choices)
    recipient = EncryptedCharField(max_length=254)  # an address or a phone: personal data
    recipient_bidx = BlindIndexField(source="recipient", kind="contact", db_index=True)
    subject = EncryptedCharField(max_length=300, blank=True)
    body = EncryptedTextField()
    # An e-mail's HTML alternative (the same words, with a button for `action_url`), so that the
    # row stays the whole message.
    html_body = EncryptedTextField(blank=True)
    # The one link the person acts on (their booking's short link); messengers that have URL
    # buttons show it as a button labelled `action_label`. A private link works as a password:
    # encrypted at rest.
    action_url = EncryptedCharField(max_length=500, blank=True)
    action_label = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=32)
    # What it is about, e.g. ("scheduling.booking", 42); kept generic so lower apps need no import.
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    # Set where a message must exist once only (a messenger copy of a notice, a reminder): a second
    # attempt to store it finds the first. A key that names a contact carries its keyed hash
    # (`notifications.services.contact_key`), never the phone, address or chat id itself.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["subject_type", "subject_id"]),
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
        ]

    def __str__(self) -> str:
        return f"notification#{self.pk} {self.kind}"


class NotificationAttachment(models.Model):
    """A file sent with an e-mail notification (e.g. the .ics of a booking)."""

    notification = models.ForeignKey(Notification, models.CASCADE, related_name="attachments")
    # A document's name may name the family: encrypted at rest.
    filename = EncryptedCharField(max_length=200)
    # The file itself (a booking's .ics names the time, perhaps the private link): encrypted.
    content = EncryptedBinaryField()
    mimetype = models.CharField(max_length=100, default="application/octet-stream")

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class Reminder(models.Model):
    """That a reminder of `kind` about a subject was sent: the unique key makes it happen once."""

    subject_type = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "kind"], name="reminder_once_per_subject"
            )
        ]

    def __str__(self) -> str:
        return f"reminder {self.kind} {self.subject_type}#{self.subject_id}"


# No 0/O, 1/I/l: a short link is read from an SMS and sometimes typed. 31 symbols, 12 of them:
# log2(31) * 12 ≈ 59 bits of randomness.
SHORT_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SHORT_CODE_LENGTH = 12


class ShortLink(models.Model):
    """A short public link (/l/<code>) to what a notice is about, for SMS that must stay short.

    It names its target by a generic (type, id) pair, like a notification's subject, so this app
    imports nobody; the top layer (the portal) decides where the link lands at the moment it is
    followed (e.g. a booked request: the room when it is open, the private page otherwise). A
    plain `path` target lands on that site path.
    """

    code = models.CharField(max_length=32, unique=True)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64, blank=True)
    path = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("short link")
        verbose_name_plural = _("short links")
        constraints = [
            # One link per target: every notice about a request carries the same link.
            models.UniqueConstraint(
                fields=["target_type", "target_id"],
                condition=~models.Q(target_id=""),
                name="shortlink_one_per_target",
            )
        ]

    def __str__(self) -> str:
        return f"shortlink {self.target_type}#{self.target_id}"
