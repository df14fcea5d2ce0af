"""Group consultations and educational events of a service (regulations 002 §3.4, 4.5; 004).

An event has places (`capacity`); a registration holds one of them or waits its turn. The database
keeps one live registration per normalised contact per event (`registration_one_per_contact`), so
registering twice keeps one place whatever the race; the places themselves are counted under the
event's row lock (`events.locks`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from opora.accounts.specialties import LanguageCode
from opora.consultations.models import Topic
from opora.consultations.recording_models import (
    RecordingAccessBase,
    RecordingBase,
    RecordingChunkBase,
)
from opora.core.fields import (
    BlindIndexField,
    EncryptedCharField,
    EncryptedEmailField,
)

# No 0/O, 1/I/l: codes are read off a certificate or a screen and sometimes typed.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# log2(31) * 16 ≈ 79 bits: a certificate code or an anonymous participant's code cannot be guessed.
CODE_LENGTH = 16


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_token() -> str:
    # 32 random bytes (256 bits) in the private link.
    return secrets.token_urlsafe(32)


class EventPolicy(models.Model):
    """What a service decides about its events (one row per service, defaults when absent)."""

    DEFAULT_MIN_SHARE = Decimal("0.70")

    service = models.OneToOneField(
        "core.Service", models.CASCADE, related_name="event_policy", verbose_name=_("service")
    )
    certificate_min_share = models.DecimalField(
        _("share of the event attended for a certificate"),
        max_digits=3,
        decimal_places=2,
        default=DEFAULT_MIN_SHARE,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1"))],
    )
    allows_anonymous = models.BooleanField(_("anonymous registration allowed"), default=False)

    class Meta:
        verbose_name = _("events policy")
        verbose_name_plural = _("events policies")

    def __str__(self) -> str:
        return f"event policy of service#{self.service_id}"


class EventSeries(models.Model):
    """Recurring events: each occurrence is an `Event` of the series."""

    service = models.ForeignKey("core.Service", models.CASCADE, related_name="event_series")
    title = models.CharField(_("title"), max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("event series")
        verbose_name_plural = _("event series")

    def __str__(self) -> str:
        return f"series#{self.pk}"


class Event(models.Model):
    class Kind(models.TextChoices):
        GROUP = "group", _("Group consultation")
        WEBINAR = "webinar", _("Webinar")
        CONFERENCE = "conference", _("Conference")
        LECTURE = "lecture", _("Video lecture")
        PODCAST = "podcast", _("Podcast")
        CASE = "case", _("Case study with a feedback form")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ANNOUNCED = "announced", _("Announced")
        HELD = "held", _("Held")
        CANCELLED = "cancelled", _("Cancelled")

    # The languages staff consult in (one list: `accounts.specialties.LanguageCode`).
    Language = LanguageCode

    service = models.ForeignKey(
        "core.Service", models.PROTECT, related_name="events", verbose_name=_("service")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    title_ru = models.CharField(_("title (Russian)"), max_length=300)
    title_kk = models.CharField(_("title (Kazakh)"), max_length=300, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True)
    description_ru = models.TextField(_("description (Russian)"), blank=True)
    description_kk = models.TextField(_("description (Kazakh)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration, minutes"), validators=[MinValueValidator(5), MaxValueValidator(24 * 60)]
    )
    capacity = models.PositiveIntegerField(
        _("places"), validators=[MinValueValidator(1), MaxValueValidator(10000)]
    )
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.RUSSIAN
    )
    topic = models.CharField(_("topic"), max_length=8, choices=Topic.choices, blank=True)
    audience = models.CharField(_("target audience"), max_length=300, blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="events_led",
        verbose_name=_("lead consultant"),
    )
    presenters = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="events_presented",
        blank=True,
        verbose_name=_("presenters"),
    )
    series = models.ForeignKey(
        EventSeries, models.SET_NULL, null=True, blank=True, related_name="events"
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.ANNOUNCED
    )
    # The Janus VideoRoom of the event (created on first use) and its secret: only Opora, which
    # knows it, creates, edits and destroys the room or lets a participant speak.
    # Encrypted at rest like other stored secrets (core.sensitive, kind "secret").
    room_secret = EncryptedCharField(max_length=64, default=new_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["service", "starts_at"])]

    def __str__(self) -> str:
        return f"event#{self.pk}"

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.duration_minutes)

    @property
    def is_group(self) -> bool:
        """A group consultation (closed, invited) rather than an educational event (open)."""
        return self.kind == self.Kind.GROUP

    @property
    def room_id(self) -> int:
        """The Janus room's number: from the room secret (48 bits, exact in the browser's
        JSON), so that a database rebuilt from scratch never meets a room of an older event."""
        return int(hashlib.sha256(self.room_secret.encode()).hexdigest()[:12], 16)

    def _localised(self, field: str) -> str:
        language = (translation.get_language() or "ru")[:2]
        return getattr(self, f"{field}_{language}", "") or getattr(self, f"{field}_ru")

    @property
    def title(self) -> str:
        return self._localised("title")

    @property
    def description(self) -> str:
        return self._localised("description")


class Registration(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Has a place")
        WAITING = "waiting", _("On the waiting list")
        CANCELLED = "cancelled", _("Cancelled")

    event = models.ForeignKey(Event, models.CASCADE, related_name="registrations")
    # As registered: printed on the certificate and in the registry. Empty when anonymous.
    # Names, contacts and the note are encrypted at rest (listed in core.sensitive).
    full_name = EncryptedCharField(_("full name"), max_length=300, blank=True)
    # Both parents on one registration: one place, counted as one service.
    second_full_name = EncryptedCharField(_("second parent"), max_length=300, blank=True)
    anonymous = models.BooleanField(_("anonymous"), default=False)
    # What an anonymous participant is called in the room and the registry.
    code = models.CharField(max_length=CODE_LENGTH, default=new_code, unique=True, editable=False)
    # The private link's secret (/e/<token>/): join, cancel, certificate. Looked up by its keyed
    # hash (unique); kept encrypted because the notices show the link again.
    token = EncryptedCharField(max_length=64, default=new_token, editable=False)
    token_hash = BlindIndexField(source="token", kind="token", unique=True)
    phone = EncryptedCharField(_("phone"), max_length=32, blank=True)
    email = EncryptedEmailField(_("e-mail"), blank=True)
    # The phone's digits, else the e-mail in lower case (`events.services.contact_key`),
    # encrypted; its keyed hash `contact_key` keeps one live registration per contact in the
    # database (`registration_one_per_contact`).
    contact = EncryptedCharField(max_length=254, blank=True, default="", editable=False)
    contact_key = BlindIndexField(source="contact", kind="contact")
    status = models.CharField(max_length=10, choices=Status.choices)
    waiting_position = models.PositiveIntegerField(null=True, blank=True)
    # Issue 14: the client has no field for it, so the agreement to be told of events is asked on
    # the registration form and kept here.
    announcements_opt_in = models.BooleanField(_("tell me about other events"), default=False)
    client = models.ForeignKey(
        "intake.Client", models.SET_NULL, null=True, blank=True, related_name="event_registrations"
    )
    # «Примечание» of the participant registry (regulation 002 Appendix 3), written by the lead.
    note = EncryptedCharField(_("note"), max_length=500, blank=True)
    # The answer to the room's recording prompt (the service's policy "consent"): None — not yet
    # asked or not answered; when it was given. The notice (policy "notice"): when first shown.
    recording_consent = models.BooleanField(_("consent to recording"), null=True, blank=True)
    recording_consent_at = models.DateTimeField(null=True, blank=True, editable=False)
    recording_notice_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "contact_key"],
                condition=~Q(status="cancelled"),
                name="registration_one_per_contact",
            ),
            models.UniqueConstraint(
                fields=["event", "waiting_position"],
                condition=Q(status="waiting"),
                name="registration_waiting_position_unique",
            ),
            models.CheckConstraint(
                condition=Q(status="waiting", waiting_position__isnull=False)
                | (~Q(status="waiting") & Q(waiting_position__isnull=True)),
                name="registration_waiting_has_position",
            ),
        ]

    def __str__(self) -> str:
        return f"registration#{self.pk}"

    @property
    def display_name(self) -> str:
        return self.code if self.anonymous else self.full_name


class Attendance(models.Model):
    """One stay in the room: a join and, once they left, a leave."""

    event = models.ForeignKey(Event, models.CASCADE, related_name="attendances")
    registration = models.ForeignKey(
        Registration, models.CASCADE, null=True, blank=True, related_name="attendances"
    )
    # A presenter's or the lead's stay (no registration).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True, related_name="+"
    )
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        ordering = ["joined_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(registration__isnull=False) | Q(user__isnull=False),
                name="attendance_has_someone",
            ),
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=models.F("joined_at")),
                name="attendance_leaves_after_joining",
            ),
        ]

    def __str__(self) -> str:
        return f"attendance#{self.pk}"


class Certificate(models.Model):
    """What the certificate says, fixed when it is issued; `/verify/<code>` shows just this."""

    registration = models.OneToOneField(Registration, models.PROTECT, related_name="certificate")
    code = models.CharField(max_length=CODE_LENGTH, default=new_code, unique=True, editable=False)
    full_name = EncryptedCharField(max_length=300)
    event_title = models.CharField(max_length=300)
    event_date = models.DateField()
    hours = models.DecimalField(max_digits=5, decimal_places=1)
    service_name = models.CharField(max_length=300)
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")

    def __str__(self) -> str:
        return f"certificate#{self.pk}"


class RoomMessage(models.Model):
    """A chat line, a question or a raised hand in an event's room (polled by the room pages)."""

    class Kind(models.TextChoices):
        CHAT = "chat", _("Message")
        HAND = "hand", _("Raised hand")

    event = models.ForeignKey(Event, models.CASCADE, related_name="room_messages")
    registration = models.ForeignKey(
        Registration, models.CASCADE, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The participant's name and what they wrote: encrypted at rest.
    author = EncryptedCharField(max_length=300)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.CHAT)
    text = EncryptedCharField(max_length=1000, blank=True)
    # A raised hand: the Janus feed (and audio mid) the participant publishes, muted by Janus
    # until the lead lets them speak.
    feed = models.BigIntegerField(null=True, blank=True)
    mid = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("room message")
        verbose_name_plural = _("room messages")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"room message#{self.pk}"


class EventRecording(RecordingBase):
    """A recording of an event's room, made in the lead's (or a presenter's) browser: the same
    columns and the same store as a consultation's `Recording` (`consultations.recording_models`,
    `consultations.recording_store`), in the events' own tables."""

    event = models.ForeignKey(Event, models.PROTECT, related_name="recordings")

    class Meta(RecordingBase.Meta):
        verbose_name = _("recording of an event")
        verbose_name_plural = _("recordings of events")
        constraints = [
            models.UniqueConstraint(
                fields=["event"],
                condition=Q(status="recording"),
                name="event_recording_one_running_per_event",
            ),
            models.CheckConstraint(
                condition=~Q(policy="never"), name="event_recording_never_under_policy_never"
            ),
        ]

    def __str__(self) -> str:
        return f"event recording#{self.pk}"

    @property
    def service_id(self) -> int:
        """For the access policy, which judges a record by its service."""
        return self.event.service_id


class EventRecordingChunk(RecordingChunkBase):
    """One piece of an event's recording as uploaded; a re-sent `seq` is stored once."""

    recording = models.ForeignKey(EventRecording, models.CASCADE, related_name="chunks")

    class Meta(RecordingChunkBase.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["recording", "seq"], name="event_recording_chunk_seq_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"event chunk#{self.recording_id}.{self.seq}"


class EventRecordingAccess(RecordingAccessBase):
    """Every read of an event's recording: who, when and why (besides the audit log)."""

    recording = models.ForeignKey(EventRecording, models.PROTECT, related_name="accesses")

    class Meta(RecordingAccessBase.Meta):
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""), name="event_recording_access_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"event recording access#{self.pk}"
