"""Consultations held in the browser room: one per active booking, with the chat that is part of it."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Consultation(models.Model):
    """The room of one booking: who is connected, its mode, consent to recording, start and end."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        IN_PROGRESS = "in_progress", _("In progress")
        ENDED = "ended", _("Ended")
        NO_SHOW = "no_show", _("No-show")

    class Mode(models.TextChoices):
        VIDEO = "video", _("Video")
        VOICE = "voice", _("Voice only")
        CHAT = "chat", _("Chat only")

    booking = models.OneToOneField(
        "scheduling.Booking", models.PROTECT, related_name="consultation"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.VIDEO)
    # The client's bearer secret. Kept (not hashed) because the link is shown again on every read
    # of the booking (API, confirmation resend); 256 random bits, compared by a unique index.
    client_token = models.CharField(max_length=64, unique=True, editable=False)
    recording_consent = models.BooleanField(_("consent to recording"), null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Who is in the room now: the WebSocket channel of each side. One client at a time; `client_sid`
    # (a random id of the browser tab) lets the same tab take its place back after a network drop.
    client_channel = models.CharField(max_length=200, blank=True, editable=False)
    client_sid = models.CharField(max_length=64, blank=True, editable=False)
    consultant_channel = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True)
                | Q(started_at__isnull=True)
                | Q(started_at__lte=models.F("ended_at")),
                name="consultation_start_before_end",
            ),
        ]

    def __str__(self) -> str:
        return f"consultation#{self.pk}"


class ChatMessage(models.Model):
    """A chat line of a consultation; `seq` orders the chat and makes replay after a reconnect exact."""

    class Sender(models.TextChoices):
        CLIENT = "client", _("Client")
        CONSULTANT = "consultant", _("Consultant")

    consultation = models.ForeignKey(Consultation, models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    sender = models.CharField(max_length=16, choices=Sender.choices)
    text = models.TextField(max_length=4000)
    # The sender's own id for the message: a message re-sent after a reconnect is stored once.
    client_msg_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["consultation", "seq"]
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        constraints = [
            models.UniqueConstraint(fields=["consultation", "seq"], name="chat_seq_unique"),
            models.UniqueConstraint(
                fields=["consultation", "sender", "client_msg_id"],
                condition=~Q(client_msg_id=""),
                name="chat_client_msg_once",
            ),
        ]

    def __str__(self) -> str:
        return f"chat#{self.consultation_id}.{self.seq}"
