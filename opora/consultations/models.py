"""Consultations held in the browser room: one per active booking, with the chat that is part of it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from opora.consultations.recording_models import (
    RecordingAccessBase,
    RecordingBase,
    RecordingChunkBase,
)
from opora.core.fields import BlindIndexField, EncryptedCharField, EncryptedTextField
from opora.scheduling.models import ConsultationForm


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

    class Timing(models.TextChoices):
        """Regulation 002: scheduled, at the moment of contact, emergency/one-off, or a series."""

        SCHEDULED = "scheduled", _("Scheduled")
        IMMEDIATE = "immediate", _("Immediate (at the moment of contact)")
        ONE_OFF = "one_off", _("Emergency / one-off")
        SERIES = "series", _("Prolonged series")

    booking = models.OneToOneField(
        "scheduling.Booking", models.PROTECT, related_name="consultation"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    # The medium used in the room (video, voice, chat, phone); `form` is how help was given —
    # its place (in person: the booking's room; visiting: the booking's address) is the booking's.
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.VIDEO)
    form = models.CharField(
        _("form"), max_length=16, choices=ConsultationForm.choices, default=ConsultationForm.VIDEO
    )
    timing = models.CharField(
        _("timing"), max_length=16, choices=Timing.choices, default=Timing.SCHEDULED
    )
    # Regulation 004: the client may record after telling the service; the notice is kept here.
    client_records_notice_at = models.DateTimeField(
        _("the client said they record"), null=True, blank=True
    )
    # The client's bearer secret (256 random bits). Looked up by its keyed hash (unique); the
    # token itself is kept encrypted, because the link is shown again on every read of the
    # booking (API, confirmation resend, the messenger bot).
    client_token = EncryptedCharField(max_length=64, editable=False)
    client_token_hash = BlindIndexField(source="client_token", kind="token", unique=True)
    recording_consent = models.BooleanField(_("consent to recording"), null=True, blank=True)
    # When the client was shown the recording notice (policy "notice", 1411): the proof that they
    # were told before a recording started.
    recording_notice_at = models.DateTimeField(null=True, blank=True, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The repeat consultation the consultant booked from the protocol screen (a new request).
    next_booking = models.ForeignKey(
        "scheduling.Booking", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who is in the room now: the WebSocket channel of each side. One client at a time; `client_sid`
    # (a random id of the browser tab) lets the same tab take its place back after a network drop.
    client_channel = models.CharField(max_length=200, blank=True, editable=False)
    client_sid = models.CharField(max_length=64, blank=True, editable=False)
    consultant_channel = models.CharField(max_length=200, blank=True, editable=False)
    # A re-provision after an accepted technical failure (regulation 004: counted once): the
    # failure whose new time this consultation is. One consultation per failure.
    reprovision_of = models.OneToOneField(
        "TechnicalFailure",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="reprovision",
        editable=False,
    )

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


# The protocol fields each form needs beyond the common ones: a form held without the room has
# no clock, so its duration is written down, and whether the child was there (regulation 004).
FORM_PROTOCOL_FIELDS: dict[str, tuple[str, ...]] = {
    ConsultationForm.IN_PERSON: ("duration_minutes", "child_present"),
    ConsultationForm.VISITING: ("duration_minutes", "child_present"),
}

MATERIALS_MAX_PAGES = 5

# Regulation 002's journal is of online consultations; one held in another form says which in
# the date column (issue 12: every form ends in the same journal row). The service's Russian.
FORM_IN_JOURNAL: dict[str, str] = {
    ConsultationForm.IN_PERSON: "очно",
    ConsultationForm.VISITING: "выездная",
    ConsultationForm.PHONE: "по телефону",
    ConsultationForm.EMAIL: "по электронной почте",
    ConsultationForm.MESSENGER: "в мессенджере",
}


class ChatMessage(models.Model):
    """A chat line of a consultation; `seq` orders the chat and makes replay after a reconnect exact."""

    class Sender(models.TextChoices):
        CLIENT = "client", _("Client")
        CONSULTANT = "consultant", _("Consultant")

    consultation = models.ForeignKey(Consultation, models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    sender = models.CharField(max_length=16, choices=Sender.choices)
    text = EncryptedTextField(max_length=4000)
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
    # The protocol's text is encrypted at rest (core.fields; listed in core.sensitive).
    child_name = EncryptedCharField(_("child's first and last name"), max_length=300, blank=True)
    child_age = models.PositiveSmallIntegerField(_("child's age"), null=True, blank=True)
    reason = EncryptedTextField(
        _("reason in the client's words / primary request"), max_length=4000
    )
    topic = models.CharField(_("topic"), max_length=3, choices=Topic.choices)
    solution = EncryptedTextField(_("solution and recommendations"), max_length=8000)
    materials = EncryptedTextField(
        _("materials sent"),
        max_length=4000,
        blank=True,
        help_text=_("Links, files, legal documents (regulation 002 §4.3.2)."),
    )
    kind = models.CharField(_("primary or repeat"), max_length=8, choices=Kind.choices)
    # Required for forms without a room clock (in person, visiting, phone): see FORM_PROTOCOL_FIELDS.
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration, minutes"), null=True, blank=True
    )
    # Regulation 004: up to five A4 pages of materials printed or sent per service.
    materials_pages = models.PositiveSmallIntegerField(
        _("pages of materials (A4)"), default=0, help_text=_("At most five pages per service.")
    )
    # Regulation 004: whether the child was present during the consultation.
    child_present = models.BooleanField(_("the child was present"), null=True, blank=True)
    next_consultation = EncryptedCharField(_("next consultation"), max_length=300, blank=True)
    note = EncryptedTextField(_("note"), max_length=2000, blank=True)
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
            models.CheckConstraint(
                condition=Q(materials_pages__lte=5), name="protocol_materials_at_most_five_pages"
            ),
        ]

    def __str__(self) -> str:
        return f"protocol#{self.pk}"


class TechnicalFailure(models.Model):
    """A consultation that could not be held for technical reasons (regulation 002 §4.2.1).

    The consultant reports it with the reason (`reported`); the head decides whether the reason is
    valid: accepted, the head picks the new time or lets the consultant pick it (`accepted` until
    then), and the new booking ends it (`rebooked`); rejected (`rejected`, with the head's reason),
    the consultation is held as booked if its time has not passed, otherwise it stays not held
    through the consultant's fault. At most one failure of a consultation is open at a time.
    """

    class Cause(models.TextChoices):
        CLIENT_CONNECTION = "client_connection", _("The client's connection")
        CONSULTANT_CONNECTION = "consultant_connection", _("The consultant's connection")
        EQUIPMENT = "equipment", _("Equipment")
        PLATFORM = "platform", _("The platform")
        OTHER = "other", _("Other")

    class State(models.TextChoices):
        REPORTED = "reported", _("Reported, waiting for the head's decision")
        ACCEPTED = "accepted", _("Accepted, the consultant picks the new time")
        REBOOKED = "rebooked", _("Accepted, new time set")
        REJECTED = "rejected", _("Reason not accepted")

    OPEN_STATES = (State.REPORTED, State.ACCEPTED)

    consultation = models.ForeignKey(
        Consultation, models.PROTECT, related_name="technical_failures"
    )
    cause = models.CharField(_("cause"), max_length=32, choices=Cause.choices)
    # What went wrong, in the consultant's words (may name the client): encrypted at rest.
    details = EncryptedTextField(_("details"), max_length=2000, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.REPORTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # The head's reason for not accepting the failure (required then).
    rejection_reason = EncryptedTextField(_("reason for rejecting"), max_length=2000, blank=True)
    # Accepted without a time: the head lets the consultant pick it (regulation 002 §4.2.1,
    # «заведующая разрешает специалисту определить другую дату»).
    consultant_picks = models.BooleanField(_("the consultant picks the new time"), default=False)
    # The booking that replaced the failed one (the re-provision), once the new time is set.
    rebooked = models.ForeignKey(
        "scheduling.Booking", models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-reported_at", "-pk"]
        verbose_name = _("technical failure")
        verbose_name_plural = _("technical failures")
        constraints = [
            models.CheckConstraint(
                condition=~Q(cause="other") | ~Q(details=""), name="failure_other_has_details"
            ),
            models.UniqueConstraint(
                fields=["consultation"],
                condition=Q(state__in=["reported", "accepted"]),
                name="failure_one_open_per_consultation",
            ),
            models.CheckConstraint(
                condition=Q(state="rebooked", rebooked__isnull=False)
                | (~Q(state="rebooked") & Q(rebooked__isnull=True)),
                name="failure_rebooked_iff_new_booking",
            ),
            models.CheckConstraint(
                condition=~Q(state="rejected") | ~Q(rejection_reason=""),
                name="failure_rejected_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(state="reported") | Q(decided_at__isnull=False),
                name="failure_decided_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"failure#{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES


class Preparation(models.Model):
    """The consultant's check 30 minutes before an online consultation (regulation 002 §4.2):
    camera, microphone and network measured in the browser, the request and earlier protocols
    read. Each check is a row (a repeated check adds one)."""

    consultation = models.ForeignKey(Consultation, models.PROTECT, related_name="preparations")
    consultant = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    camera_ok = models.BooleanField(_("camera works"))
    microphone_ok = models.BooleanField(_("microphone works"))
    network_ok = models.BooleanField(_("network is good enough"))
    # Measured in the browser: round trip to the server and download speed.
    rtt_ms = models.PositiveIntegerField(_("round trip, ms"), null=True, blank=True)
    download_mbit = models.DecimalField(
        _("download, Mbit/s"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    request_read = models.BooleanField(_("the request is read"))
    protocols_read = models.BooleanField(_("earlier protocols are read"))
    passed = models.BooleanField(_("passed"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("preparation")
        verbose_name_plural = _("preparations")
        constraints = [
            models.CheckConstraint(
                condition=Q(passed=False)
                | Q(
                    camera_ok=True,
                    microphone_ok=True,
                    network_ok=True,
                    request_read=True,
                    protocols_read=True,
                ),
                name="preparation_passed_only_if_all_ok",
            ),
        ]

    def __str__(self) -> str:
        return f"preparation#{self.pk}"


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


class ChatAttachment(models.Model):
    """A file sent in the room's chat (regulation 002 §4.3.2: materials sent — links, files, legal
    documents). Stored encrypted like recordings; only the two participants download it."""

    message = models.OneToOneField(ChatMessage, models.CASCADE, related_name="attachment")
    # The sender's own file name (often a name or a document's title): encrypted at rest.
    name = EncryptedCharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size, bytes"))
    sha256 = models.CharField(max_length=64)
    key_id = models.CharField(max_length=32)
    wrapped_key = models.BinaryField(editable=False)
    storage_name = models.CharField(max_length=300, editable=False)

    class Meta:
        verbose_name = _("chat file")
        verbose_name_plural = _("chat files")

    def __str__(self) -> str:
        return f"chatfile#{self.pk}"


class Recording(RecordingBase):
    """«Запись разговора»: one continuous recording of a consultation, made in the consultant's
    browser (the columns and the store are shared with events' recordings:
    `consultations.recording_models`, `consultations.recording_store`)."""

    consultation = models.ForeignKey(Consultation, models.PROTECT, related_name="recordings")

    class Meta(RecordingBase.Meta):
        verbose_name = _("recording")
        verbose_name_plural = _("recordings")
        constraints = [
            models.UniqueConstraint(
                fields=["consultation"],
                condition=Q(status="recording"),
                name="recording_one_running_per_consultation",
            ),
            models.CheckConstraint(
                condition=~Q(policy="never"), name="recording_never_under_policy_never"
            ),
        ]

    def __str__(self) -> str:
        return f"recording#{self.pk}"


class RecordingChunk(RecordingChunkBase):
    """One 5-second piece of a recording as uploaded; `seq` is unique, so a re-sent chunk is
    stored once."""

    recording = models.ForeignKey(Recording, models.CASCADE, related_name="chunks")

    class Meta(RecordingChunkBase.Meta):
        constraints = [
            models.UniqueConstraint(fields=["recording", "seq"], name="recording_chunk_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"chunk#{self.recording_id}.{self.seq}"


class RecordingAccess(RecordingAccessBase):
    """Every read of a recording: who, when and why (besides the audit log)."""

    class Kind(models.TextChoices):
        DOWNLOAD = "download", _("Download")
        RELEASE = "release", _("Handed over for a complaint review")

    recording = models.ForeignKey(Recording, models.PROTECT, related_name="accesses")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.DOWNLOAD)

    class Meta(RecordingAccessBase.Meta):
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="recording_access_has_reason"),
        ]

    def __str__(self) -> str:
        return f"recording-access#{self.pk}"


class RecordingRelease(models.Model):
    """A recording handed over for a complaint review: due within 3 working days of the
    authority's request (regulation 000). The complaint is a free reference until complaints
    are built."""

    recording = models.ForeignKey(Recording, models.PROTECT, related_name="releases")
    # A person's name and free text: encrypted at rest (the reference is a number).
    recipient = EncryptedCharField(_("to whom"), max_length=300)
    complaint_ref = models.CharField(_("complaint reference"), max_length=100)
    reason = EncryptedCharField(_("reason"), max_length=500)
    requested_on = models.DateField(_("request received on"))
    due_on = models.DateField(_("due by"))
    released_at = models.DateTimeField(_("handed over"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("hand-over of a recording")
        verbose_name_plural = _("hand-overs of recordings")
        constraints = [
            models.CheckConstraint(
                condition=Q(due_on__gte=models.F("requested_on")), name="release_due_after_request"
            ),
        ]

    def __str__(self) -> str:
        return f"release#{self.pk}"
