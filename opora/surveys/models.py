"""Questionnaires: versioned instruments, assignments to clients, responses and their results."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opora.core.fields import EncryptedJSONField
from opora.surveys import scoring


class Instrument(models.Model):
    """A questionnaire (PHQ-9, PSS-10, …); its items and scoring live on its versions."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    # Offered openly on the portal page of every service (a consultant can always assign it).
    is_public = models.BooleanField(_("offered on the portal"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")

    def __str__(self) -> str:
        return self.name

    @property
    def current_version(self) -> InstrumentVersion | None:
        return self.versions.order_by("-number").first()


class InstrumentVersion(models.Model):
    """One definition of an instrument (see `scoring`); editing makes a new version, responses
    keep the version they were given."""

    instrument = models.ForeignKey(Instrument, models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["instrument_id", "-number"]
        verbose_name = _("questionnaire version")
        verbose_name_plural = _("questionnaire versions")
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "number"], name="surveys_version_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument.code} v{self.number}"

    def clean(self) -> None:
        try:
            scoring.validate_definition(self.definition)
        except scoring.DefinitionError as exc:
            raise ValidationError({"definition": exc.messages}) from None

    def text(self, key: str, language: str) -> str:
        return scoring.localized(self.definition.get(key), language)


class Assignment(models.Model):
    """An instrument given to someone to fill in through a private link (`token`).

    A consultant assigns it to a request's client; the portal opens one for a visitor who starts
    an open questionnaire (anonymous: no request).
    """

    class Source(models.TextChoices):
        CONSULTANT = "consultant", _("Assigned by a consultant")
        PORTAL = "portal", _("Opened on the portal")

    service = models.ForeignKey("core.Service", models.PROTECT, related_name="survey_assignments")
    version = models.ForeignKey(InstrumentVersion, models.PROTECT, related_name="assignments")
    request = models.ForeignKey(
        "intake.ServiceRequest",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="survey_assignments",
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("questionnaire assignment")
        verbose_name_plural = _("questionnaire assignments")

    def __str__(self) -> str:
        return f"assignment#{self.pk}"

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at


class Response(models.Model):
    """The answers to one assignment: a draft until submitted; one per assignment."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")

    assignment = models.OneToOneField(Assignment, models.PROTECT, related_name="response")
    # What a parent answered (about their stress, their mood): encrypted at rest, scored in Python.
    answers = EncryptedJSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    # The key of the submitting form: a second submit with it (double tap, two tabs) is the same.
    submit_key = models.CharField(max_length=64, null=True, blank=True, unique=True)  # noqa: DJ001
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("questionnaire response")
        verbose_name_plural = _("questionnaire responses")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="draft", submitted_at__isnull=True)
                | models.Q(status="submitted", submitted_at__isnull=False),
                name="surveys_response_submitted_has_time",
            )
        ]

    def __str__(self) -> str:
        return f"response#{self.pk}"


class Result(models.Model):
    """The score of a submitted response; a service of the survey kind for the journal."""

    response = models.OneToOneField(Response, models.PROTECT, related_name="result")
    # Copied for the journal's queries by service and period and the client's record.
    service = models.ForeignKey("core.Service", models.PROTECT, related_name="survey_results")
    request = models.ForeignKey(
        "intake.ServiceRequest", models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.ForeignKey(InstrumentVersion, models.PROTECT, related_name="results")
    total = models.IntegerField()
    band = models.CharField(max_length=40, blank=True)
    subscales = models.JSONField(default=dict)
    risk = models.BooleanField(default=False)
    risk_items = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("questionnaire result")
        verbose_name_plural = _("questionnaire results")
        indexes = [models.Index(fields=["service", "created_at"])]

    def __str__(self) -> str:
        return f"result#{self.pk}"

    def band_definition(self) -> dict[str, Any]:
        for band in self.version.definition.get("bands") or []:
            if band.get("code") == self.band:
                return band
        return {}
