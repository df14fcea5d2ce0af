"""Complaints (regulation 000 §15–19): registered with a number and a legal deadline, reviewed by
someone other than the consultant complained about, answered through the outbox; a disagreement
reopens the complaint to the authority (§19)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from opora.core.fields import EncryptedCharField, EncryptedEmailField, EncryptedTextField


class ComplaintSettings(models.Model):
    """A service's complaint rules. Without a row the defaults of its country apply
    (`complaints.deadlines.settings_for`)."""

    service = models.OneToOneField(
        "core.Service", models.CASCADE, related_name="complaint_settings"
    )
    answer_days = models.PositiveSmallIntegerField(_("days to answer a complaint"))
    working_days = models.BooleanField(
        _("count working days"),
        default=True,
        help_text=_("Working days by the service's calendar; otherwise calendar days."),
    )
    allows_anonymous = models.BooleanField(
        _("anonymous complaints allowed"),
        default=False,
        help_text=_("An anonymous complainant follows the complaint by a code."),
    )

    class Meta:
        verbose_name = _("complaint settings")
        verbose_name_plural = _("complaint settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(answer_days__gte=1) & Q(answer_days__lte=90),
                name="complaint_settings_days_range",
            ),
        ]

    def __str__(self) -> str:
        return f"complaint-settings#{self.service_id}"


class ComplaintCounter(models.Model):
    """The last number given in a service's year; its row is locked while a number is taken."""

    service = models.ForeignKey("core.Service", models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "year"], name="complaint_counter_unique"),
        ]

    def __str__(self) -> str:
        return f"complaint-counter#{self.service_id}.{self.year}"


class Complaint(models.Model):
    class Channel(models.TextChoices):
        PORTAL = "portal", _("Portal")
        EMAIL = "email", _("E-mail")
        PAPER = "paper", _("Paper letter")
        VISIT = "visit", _("Visit in person")

    class Status(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        UNDER_REVIEW = "under_review", _("Under review")
        ANSWERED = "answered", _("Answered")
        # §19: the complainant disagrees with the answer; the authority reviews it.
        DISPUTED = "disputed", _("Disputed: with the authority")
        CLOSED = "closed", _("Closed")

    class Stage(models.TextChoices):
        SERVICE = "service", _("The service")
        AUTHORITY = "authority", _("The authority")

    service = models.ForeignKey("core.Service", models.PROTECT, related_name="complaints")
    number = models.CharField(_("number"), max_length=32)
    channel = models.CharField(_("received by"), max_length=8, choices=Channel.choices)
    is_anonymous = models.BooleanField(_("anonymous"), default=False)
    # The complainant's identity, contacts and every free text are encrypted at rest (listed in
    # core.sensitive); nothing looks a complaint up by them (it is found by number or by code).
    complainant_name = EncryptedCharField(_("complainant"), max_length=400, blank=True)
    phone = EncryptedCharField(_("phone"), max_length=32, blank=True)
    email = EncryptedEmailField(_("e-mail"), blank=True)
    postal_address = EncryptedCharField(_("postal address"), max_length=500, blank=True)
    # SHA-256 of the follow-up code (80 random bits); the code itself is shown once.
    follow_code_hash = models.CharField(  # noqa: DJ001 (NULL: no code; unique among codes)
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    request = models.ForeignKey(
        "intake.ServiceRequest",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("request"),
    )
    consultation = models.ForeignKey(
        "consultations.Consultation",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("consultation"),
    )
    text = EncryptedTextField(_("complaint text"), max_length=8000)
    # The version of the consent text agreed to on the portal (`complaints.consent`).
    consent_version = models.CharField(max_length=32, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    registered_at = models.DateTimeField(_("registered"))
    # The service's local date of registration: the deadline counts from it.
    registered_on = models.DateField()
    due_on = models.DateField(_("answer due by"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REGISTERED
    )
    stage = models.CharField(
        _("reviewed by"), max_length=16, choices=Stage.choices, default=Stage.SERVICE
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints_to_review",
        verbose_name=_("reviewer"),
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    # §19: the authority's written request for the recording (the day it was received, and when
    # it was entered here), due within 3 working days of its receipt.
    recording_requested_on = models.DateField(null=True, blank=True)
    recording_requested_at = models.DateTimeField(null=True, blank=True)
    recording_due_on = models.DateField(null=True, blank=True)
    answer = EncryptedTextField(_("answer"), max_length=8000, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    disagreement = EncryptedTextField(_("disagreement"), max_length=4000, blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        indexes = [models.Index(fields=["service", "status", "due_on"])]
        constraints = [
            models.UniqueConstraint(fields=["service", "number"], name="complaint_number_unique"),
            models.CheckConstraint(
                condition=Q(
                    status__in=["registered", "under_review", "answered", "disputed", "closed"]
                ),
                name="complaint_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["portal", "email", "paper", "visit"]),
                name="complaint_channel_valid",
            ),
            models.CheckConstraint(
                condition=Q(due_on__gte=models.F("registered_on")), name="complaint_due_after"
            ),
            # Named: a name; anonymous: no name and a code to follow it by.
            models.CheckConstraint(
                condition=(Q(is_anonymous=False) & ~Q(complainant_name=""))
                | (
                    Q(is_anonymous=True)
                    & Q(complainant_name="")
                    & Q(follow_code_hash__isnull=False)
                ),
                name="complaint_named_or_coded",
            ),
            models.CheckConstraint(
                condition=Q(status="registered") | Q(reviewer__isnull=False) | Q(status="disputed"),
                name="complaint_reviewed_by_someone",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["answered", "closed"])
                | (~Q(answer="") & Q(answered_at__isnull=False)),
                name="complaint_answered_has_answer",
            ),
            models.CheckConstraint(
                condition=~Q(status="disputed") | Q(disputed_at__isnull=False),
                name="complaint_disputed_has_time",
            ),
            models.CheckConstraint(
                condition=Q(recording_due_on__isnull=True)
                | (
                    Q(recording_requested_at__isnull=False)
                    & Q(recording_due_on__gte=models.F("recording_requested_on"))
                ),
                name="complaint_recording_due_has_request",
            ),
            models.CheckConstraint(
                condition=Q(consultation__isnull=True) | Q(request__isnull=False),
                name="complaint_consultation_has_request",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class ComplaintEvent(models.Model):
    """The history of a complaint, shown on its page (the audit log keeps the same steps)."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        ASSIGNED = "assigned", _("Reviewer assigned")
        RECORDING_REQUESTED = "recording_requested", _("Recording requested")
        ANSWERED = "answered", _("Answered")
        DISPUTED = "disputed", _("The complainant disagrees: reopened to the authority")
        CLOSED = "closed", _("Closed")

    complaint = models.ForeignKey(Complaint, models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("complaint event")
        verbose_name_plural = _("complaint events")

    def __str__(self) -> str:
        return f"complaint-event#{self.pk}"
