"""Messenger bots of a service, the conversations they carry, and the inbound/outbound queues.

Nothing is lost: an inbound update is stored (unique per account and external id) before the
webhook answers 200, and processed from the stored row; an outbound message is a queued row
first, sent by a task, and marked sent under a row lock so it is never sent twice by us.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from opora.core.fields import (
    BlindIndexField,
    EncryptedCharField,
    EncryptedJSONField,
    EncryptedTextField,
)
from opora.notifications.models import OutboxRow


class MessengerChannel(models.TextChoices):
    # The same values as intake's request channels and notification channels.
    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    VIBER = "viber", _("Viber")
    VK = "vk", _("VK")


def _resolve_secret(value: str) -> str:
    """`env:NAME` reads the secret from the environment, so it need not live in the database."""
    if value.startswith("env:"):
        return os.environ.get(value[4:], "")
    return value


class ChannelAccount(models.Model):
    """A bot (Telegram), business number (WhatsApp), public account (Viber) or community (VK).

    Its webhook is `/messengers/<channel>/<slug>/webhook/`. Secrets may be given as `env:NAME`.
    """

    service = models.ForeignKey(
        "core.Service", models.PROTECT, related_name="messenger_accounts", verbose_name=_("service")
    )
    channel = models.CharField(_("channel"), max_length=16, choices=MessengerChannel.choices)
    slug = models.SlugField(_("address name"), max_length=64)
    name = models.CharField(_("name shown to clients"), max_length=100)
    # Telegram bot token, WhatsApp access token, Viber auth token, VK community access token.
    token = EncryptedCharField(_("access token"), max_length=300)
    # Telegram secret_token, WhatsApp verify_token, VK secret key.
    webhook_secret = EncryptedCharField(_("webhook secret"), max_length=256, blank=True)
    # WhatsApp: the app secret that signs the webhook body.
    app_secret = EncryptedCharField(_("app secret"), max_length=256, blank=True)
    # WhatsApp phone_number_id, VK group_id.
    external_id = models.CharField(_("account id at the provider"), max_length=64, blank=True)
    # VK Callback API: the string the server must answer to a `confirmation` request.
    confirmation_code = models.CharField(_("confirmation string"), max_length=64, blank=True)
    api_base = models.CharField(_("API address (override)"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service", "channel", "slug"]
        verbose_name = _("messenger account")
        verbose_name_plural = _("messenger accounts")
        constraints = [
            models.UniqueConstraint(fields=["channel", "slug"], name="channel_account_slug_unique")
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.slug}"

    def secret(self, field: str) -> str:
        return _resolve_secret(getattr(self, field))


class Conversation(models.Model):
    """One chat with one person in one account; knows the client and their current request."""

    class State(models.TextChoices):
        IDLE = "", _("Idle")
        ASK_QUESTION = "ask_question", _("Waiting for the question")
        ASK_IIN = "ask_iin", _("Waiting for the IIN")
        ASK_NAME = "ask_name", _("Waiting for the full name")
        ASK_PHONE = "ask_phone", _("Waiting for the phone")
        CONFIRM_CANCEL = "confirm_cancel", _("Confirming a cancellation")
        QUALITY_TEXT = "quality_text", _("Waiting for the impressions of a consultation")

    account = models.ForeignKey(ChannelAccount, models.PROTECT, related_name="conversations")
    # The provider's ids of the chat and the person: a WhatsApp id is the phone number, so both
    # are encrypted at rest (core.sensitive); the chat is found (and kept unique per account)
    # through the keyed hash beside it, the id taken exactly as the provider sends it.
    external_chat_id = EncryptedCharField(max_length=64)
    external_chat_id_bidx = BlindIndexField(source="external_chat_id", kind="chat_id")
    external_user_id = EncryptedCharField(max_length=64, blank=True)
    display_name = EncryptedCharField(_("name in the messenger"), max_length=200, blank=True)
    language = models.CharField(max_length=8, blank=True)
    client = models.ForeignKey(
        "intake.Client", models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    request = models.ForeignKey(
        "intake.ServiceRequest",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("current request"),
    )
    state = models.CharField(max_length=16, choices=State.choices, blank=True, default="")
    # The answers of an unfinished dialogue (question, IIN, name); cleared when it ends.
    # Personal data: encrypted at rest (core.sensitive).
    draft = EncryptedJSONField(default=dict, blank=True)
    reminders_enabled = models.BooleanField(_("reminders"), default=True)
    # Announcements of the service's events (issue 14); the subscriber turns them off with
    # /events_off.
    announcements_enabled = models.BooleanField(_("announcements of events"), default=True)
    # Set by the first client message a consultant has not answered yet; cleared by a reply.
    awaiting_reply_since = models.DateTimeField(null=True, blank=True, db_index=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_message_at", "-pk"]
        verbose_name = _("messenger conversation")
        verbose_name_plural = _("messenger conversations")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "external_chat_id_bidx"], name="conversation_one_per_chat"
            )
        ]

    def __str__(self) -> str:
        return f"conversation#{self.pk}"

    @property
    def channel(self) -> str:
        return self.account.channel


class InboundUpdate(models.Model):
    """One delivery from a provider, stored before the webhook answers; unique per account."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        FAILED = "failed", _("Failed")

    account = models.ForeignKey(ChannelAccount, models.PROTECT, related_name="inbound_updates")
    external_id = models.CharField(max_length=128)
    conversation = models.ForeignKey(
        Conversation, models.SET_NULL, null=True, blank=True, related_name="inbound_updates"
    )
    # The normalised message (adapters.base.InboundMessage as a dict), not the provider's payload:
    # the client's text, name and phone, so encrypted at rest (core.sensitive); the delivery's
    # id for de-duplication is `external_id` beside it. Blanked past its term (retention).
    payload = EncryptedJSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "pk"]
        verbose_name = _("inbound update")
        verbose_name_plural = _("inbound updates")
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="inbound_update_once")
        ]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"inbound#{self.pk}"


class OutgoingChatMessage(OutboxRow):
    """A message to a chat: a queued row first, then sent by the one outbox with its retries."""

    account = models.ForeignKey(ChannelAccount, models.PROTECT, related_name="outbound_messages")
    conversation = models.ForeignKey(Conversation, models.PROTECT, related_name="outbound_messages")
    text = EncryptedTextField(max_length=4000)

    class Method(models.TextChoices):
        SEND = "", _("Message")
        # Telegram: acknowledge a tap on a button (`target_id`: the callback query's id).
        ANSWER_CALLBACK = "answer_callback", _("Answer to a button tap")
        # Telegram: replace the buttons under a sent message (`target_id`: its message id).
        EDIT_BUTTONS = "edit_buttons", _("Buttons changed")

    # [[{"text": ..., "request_contact": bool, "url"?, "data"?}, ...], ...]: rows of buttons.
    buttons = models.JSONField(default=list, blank=True)
    method = models.CharField(max_length=16, choices=Method.choices, default="", blank=True)
    target_id = models.CharField(max_length=128, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    external_id = models.CharField(max_length=128, blank=True)
    # Issue 12: a document the consultant sends with a written answer (regulation 004: the
    # documents and regulations the client asked for); the text goes as its caption.
    file = models.FileField(upload_to="messengers/outgoing/%Y/%m/", max_length=300, blank=True)
    # A document's name may name the family: encrypted at rest.
    file_name = EncryptedCharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("outgoing chat message")
        verbose_name_plural = _("outgoing chat messages")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="messenger_outbound_sent_has_time",
            )
        ]

    def __str__(self) -> str:
        return f"outbound#{self.pk}"


class ConversationMessage(models.Model):
    """The conversation's history, in order: what the client wrote and what they were sent."""

    class Direction(models.TextChoices):
        IN = "in", _("From the client")
        OUT = "out", _("To the client")

    conversation = models.ForeignKey(Conversation, models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    text = EncryptedTextField(blank=True)
    # [{"type", "file_name", "url"?...}]: names of the client's files and the provider's links to
    # them, sealed like the text (core.sensitive). NULL once retention has blanked the line.
    attachments = EncryptedJSONField(default=list, blank=True, null=True)
    # Exactly one history line per stored update, and per outbound message.
    inbound_update = models.OneToOneField(
        InboundUpdate, models.SET_NULL, null=True, blank=True, related_name="message"
    )
    outbound = models.OneToOneField(
        OutgoingChatMessage, models.SET_NULL, null=True, blank=True, related_name="history"
    )
    # The consultant who wrote a reply; empty for the bot's own lines and the client's messages.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("conversation message")
        verbose_name_plural = _("conversation messages")

    def __str__(self) -> str:
        return f"message#{self.pk}"
