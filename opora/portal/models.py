"""What the public portal keeps beside a request: how the client wants the answer, and in which
language they wrote. The request itself (and its contacts) lives in intake."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from opora.core.fields import EncryptedCharField


class ReplyChannel(models.TextChoices):
    """How the client wants to be answered (regulation 004: e-mail, phone, messengers)."""

    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone call")
    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    VIBER = "viber", _("Viber")
    # An anonymous client follows the request only through its private link.
    PRIVATE_LINK = "link", _("Only on the request's private page")


MESSENGERS = (ReplyChannel.TELEGRAM, ReplyChannel.WHATSAPP, ReplyChannel.VIBER)


class PortalSubmission(models.Model):
    """One request sent through the portal. No user agent or address is kept on purpose."""

    request = models.OneToOneField(
        "intake.ServiceRequest", models.CASCADE, related_name="portal_submission"
    )
    reply_channel = models.CharField(
        _("answer by"), max_length=16, choices=ReplyChannel.choices, default=ReplyChannel.EMAIL
    )
    # A messenger user name or number when it differs from the request's phone. Personal data:
    # never logged, never in a URL, encrypted at rest (core.sensitive).
    reply_contact = EncryptedCharField(_("messenger contact"), max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=8)
    # Self-booking: the key of the draft (step 1) this request was made from. Unique, so that a
    # double-submitted step 2 finds the request the first submit made instead of a second one.
    draft_key = models.CharField(max_length=32, null=True, blank=True, unique=True, editable=False)
    # The request form and the anonymous form: a key made when the form was shown (a hidden
    # field). Unique, so that a double tap or a resent form finds the request the first send made.
    form_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("portal submission")
        verbose_name_plural = _("portal submissions")
        constraints = [
            models.CheckConstraint(
                condition=Q(reply_channel__in=[c.value for c in ReplyChannel]),
                name="portal_reply_channel_valid",
            ),
            models.CheckConstraint(
                condition=Q(language__in=["ru", "kk", "en"]), name="portal_language_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"portal submission for request#{self.request_id}"


class ContactConfirmation(models.Model):
    """A code sent to the contact already on a client's card, so that the client may have the
    contacts given with a portal request written to the card (issue 10 §9). Only a keyed hash
    of the code is kept; it expires soon and allows a few attempts."""

    request = models.ForeignKey(
        "intake.ServiceRequest", models.CASCADE, related_name="contact_confirmations"
    )
    # HMAC of the code with the site's secret and this row's salt: a copy of the table alone
    # does not give the codes back.
    code_hash = models.CharField(max_length=128, editable=False)
    salt = models.CharField(max_length=32, editable=False)
    # How the code was sent ("sms" or "email"), never to where.
    sent_via = models.CharField(max_length=16)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact confirmation")
        verbose_name_plural = _("contact confirmations")
        indexes = [models.Index(fields=["request", "-created_at"])]

    def __str__(self) -> str:
        return f"contact confirmation for request#{self.request_id}"
