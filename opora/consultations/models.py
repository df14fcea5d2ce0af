"""Consultations held in the browser room: one per active booking, with the chat that is part of it."""

from django.conf import settings
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
        # Regulation 002 §4.2.1: a technical failure; the booking moves on, this attempt is not a service.
        FAILED = "failed", _("Technical failure")

    class Mode(models.TextChoices):
        VIDEO = "video", _("Video")
        VOICE = "voice", _("Voice only")
        CHAT = "chat", _("Chat only")
        PHONE = "phone", _("By phone")

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


class Topic(models.TextChoices):
    """«Тематика консультирования», regulation 002 Appendix 3 (1–7, crisis situations by subtype)."""

    FAMILY = "1", _("1. Family problems")
    PERSONAL = "2", _("2. Personal problems")
    MALADJUSTMENT = "3", _("3. Social maladjustment")
    INTERPERSONAL = "4", _("4. Interpersonal problems")
    LEARNING = "5", _("5. Learning problems")
    CRISIS_SUICIDE = "6.1", _("6. Crisis situations: suicide")
    CRISIS_ABUSE = "6.2", _("6. Crisis situations: child abuse")
    CRISIS_VIOLENCE = "6.3", _("6. Crisis situations: violence")
    LEGAL = "7", _("7. Legal assistance")


CRISIS_TOPICS = frozenset({Topic.CRISIS_SUICIDE, Topic.CRISIS_ABUSE, Topic.CRISIS_VIOLENCE})


class Protocol(models.Model):
    """«Протокол он-лайн консультирования» (regulation 002 Appendix 3), written after the end.

    Date, time and the parent or representative come from the consultation and its request; they
    are not copied here, so the journal (a view over consultations) has one source of truth.
    """

    class Kind(models.TextChoices):
        PRIMARY = "primary", _("Primary")
        REPEAT = "repeat", _("Repeat")

    consultation = models.OneToOneField(Consultation, models.PROTECT, related_name="protocol")
    child_name = models.CharField(_("child's first and last name"), max_length=300, blank=True)
    child_age = models.PositiveSmallIntegerField(_("child's age"), null=True, blank=True)
    reason = models.TextField(_("reason in the client's words / primary request"), max_length=4000)
    topic = models.CharField(_("topic"), max_length=3, choices=Topic.choices)
    solution = models.TextField(_("solution and recommendations"), max_length=8000)
    materials = models.TextField(
        _("materials sent"),
        max_length=4000,
        blank=True,
        help_text=_("Links, files, legal documents (regulation 002 §4.3.2)."),
    )
    kind = models.CharField(_("primary or repeat"), max_length=8, choices=Kind.choices)
    next_consultation = models.CharField(_("next consultation"), max_length=300, blank=True)
    note = models.TextField(_("note"), max_length=2000, blank=True)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("consultant")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("protocol")
        verbose_name_plural = _("protocols")
        constraints = [
            models.CheckConstraint(
                condition=Q(topic__in=Topic.values), name="protocol_topic_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"protocol#{self.pk}"


class TechnicalFailure(models.Model):
    """A consultation that could not be held for technical reasons (regulation 002 §4.2.1)."""

    class Cause(models.TextChoices):
        CLIENT_CONNECTION = "client_connection", _("The client's connection")
        CONSULTANT_CONNECTION = "consultant_connection", _("The consultant's connection")
        EQUIPMENT = "equipment", _("Equipment")
        PLATFORM = "platform", _("The platform")
        OTHER = "other", _("Other")

    consultation = models.OneToOneField(
        Consultation, models.PROTECT, related_name="technical_failure"
    )
    cause = models.CharField(_("cause"), max_length=32, choices=Cause.choices)
    details = models.TextField(_("details"), max_length=2000, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(auto_now_add=True)
    # The booking that replaced the failed one; empty when no free slot of the consultant was found
    # (then the head reschedules by hand).
    rebooked = models.ForeignKey(
        "scheduling.Booking", models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("technical failure")
        verbose_name_plural = _("technical failures")
        constraints = [
            models.CheckConstraint(
                condition=~Q(cause="other") | ~Q(details=""), name="failure_other_has_details"
            ),
        ]

    def __str__(self) -> str:
        return f"failure#{self.pk}"


class CrisisAlert(models.Model):
    """A crisis raised in a consultation: the heads are told at once."""

    class Source(models.TextChoices):
        BUTTON = "button", _("The crisis button in the room")
        TOPIC = "topic", _("A crisis topic in the protocol")

    consultation = models.ForeignKey(Consultation, models.PROTECT, related_name="crisis_alerts")
    source = models.CharField(max_length=8, choices=Source.choices)
    topic = models.CharField(max_length=3, choices=Topic.choices, blank=True)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("crisis alert")
        verbose_name_plural = _("crisis alerts")

    def __str__(self) -> str:
        return f"crisis#{self.pk}"
