"""The monthly reports of the 1411 chain (regulation 000 §21–23, 001 §11–13).

A report is one version of one form (3.1, 3.2, 3.3, 3.4) for one month of one service. Its figures
are a JSON snapshot of database aggregations taken when it is drafted. A signed version is never
changed: a correction is a new version (with its reason) that replaces it; the services in
`opora.reports.services` are the only writers and refuse any edit of a version past draft.
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from opora.core.fields import EncryptedTextField


class Report(models.Model):
    class Kind(models.TextChoices):
        HANDED_OVER = "3.1", _("3.1 Requests handed over (ГЦВП → University)")
        SERVED = "3.2", _("3.2 Persons served (University → ГЦВП)")
        AUTHORITY_HANDED_OVER = "3.3", _("3.3 Requests handed over (ГЦВП → authority)")
        AUTHORITY_SERVED = "3.4", _("3.4 Persons served (ГЦВП → authority)")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SIGNED = "signed", _("Signed")
        SENT = "sent", _("Sent")
        CONFIRMED = "confirmed", _("Confirmed")
        DISPUTED = "disputed", _("Disputed")

    service = models.ForeignKey("core.Service", models.PROTECT, related_name="reports")
    kind = models.CharField(_("form"), max_length=4, choices=Kind.choices)
    month = models.DateField(_("month"), help_text=_("First day of the month"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    organisation_from = models.ForeignKey(
        "core.Organisation", models.PROTECT, related_name="reports_sent", verbose_name=_("from")
    )
    organisation_to = models.ForeignKey(
        "core.Organisation", models.PROTECT, related_name="reports_received", verbose_name=_("to")
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    figures = models.JSONField(default=dict)
    # A correction: the version it replaces and why.
    replaces = models.OneToOneField(
        "self", models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )
    reason = EncryptedTextField(_("reason for the correction"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    drafted_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    notification = models.ForeignKey(
        "notifications.Notification", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_comment = EncryptedTextField(_("comment"), blank=True)

    class Meta:
        ordering = ["-month", "kind", "-version"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "kind", "month", "version"], name="report_one_per_version"
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="report_month_first_day"),
            models.CheckConstraint(
                condition=Q(state="draft") | Q(signed_at__isnull=False, signed_by__isnull=False),
                name="report_signed_has_signer",
            ),
            models.CheckConstraint(
                condition=Q(version=1, replaces__isnull=True)
                | Q(version__gt=1, replaces__isnull=False),
                name="report_correction_replaces",
            ),
        ]

    def __str__(self) -> str:
        return f"report {self.kind} {self.month:%Y-%m} v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """The invariant, checked on every save: a signed version's content never changes (only
        its way onward — sent, answered — is recorded)."""
        if self.pk is not None:
            stored = (
                Report.objects.filter(pk=self.pk)
                .exclude(state=self.State.DRAFT)
                .values(*FROZEN_FIELDS)
                .first()
            )
            if stored is not None and any(stored[f] != getattr(self, f) for f in FROZEN_FIELDS):
                raise SignedReportChanged(f"report {self.pk} is signed and can't be changed")
        super().save(*args, **kwargs)


class SignedReportChanged(Exception):
    """A programming error: something tried to change a signed report in place."""


# What a signature covers.
FROZEN_FIELDS = (
    "service_id",
    "kind",
    "month",
    "version",
    "organisation_from_id",
    "organisation_to_id",
    "figures",
    "replaces_id",
    "reason",
    "signed_by_id",
    "signed_at",
)


class MonthFigure(models.Model):
    """The stored figures of one month of one service (`opora.reports.rollup`): one row per
    measure and breakdown key — the total, each region, each consultant, each day, and each
    (region, consultant) of the discrepancies — written by the figures' own aggregation and read
    by the report while the month is clean. Persons are distinct counts of each row's own key
    (never summed from other rows)."""

    class Breakdown(models.IntegerChoices):
        # PostgreSQL's GROUPING(region, consultant, day) bitmask of the grouping set.
        PAIR = 1, "region+consultant"
        REGION = 3, "region"
        CONSULTANT = 5, "consultant"
        DAY = 6, "day"
        TOTAL = 7, "total"

    service = models.ForeignKey("core.Service", models.CASCADE, related_name="+")
    month = models.DateField()
    measure = models.CharField(max_length=16)  # figures.HANDED_OVER | figures.SERVED
    breakdown = models.PositiveSmallIntegerField(choices=Breakdown.choices)
    region = models.ForeignKey(
        "core.Region", models.SET_NULL, null=True, blank=True, related_name="+", db_constraint=False
    )
    consultant_id = models.BigIntegerField(null=True, blank=True)
    day = models.DateField(null=True, blank=True)
    requests = models.PositiveIntegerField(default=0)
    persons = models.PositiveIntegerField(default=0)
    # Handed over only: the handed-over requests with no ended consultation (the discrepancies),
    # and the first numbers of them (PAIR rows).
    unserved = models.PositiveIntegerField(default=0)
    sample = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["service", "month"], name="monthfigure_service_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.measure} {self.get_breakdown_display()}"


class MonthFigureState(models.Model):
    """When a month's figures of a service were computed: `computed_from` is the moment before
    the aggregation read the data; the month is clean while no `MonthDirty` mark is as late."""

    service = models.ForeignKey("core.Service", models.CASCADE, related_name="+")
    month = models.DateField()
    computed_from = models.DateTimeField()
    computed_at = models.DateTimeField()
    seconds = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "month"], name="monthfigure_state_one")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} computed {self.computed_from:%Y-%m-%d %H:%M}"


class MonthDirty(models.Model):
    """A month changed by a write (marked after its commit): its stored figures computed before
    `marked_at` are stale, for every service."""

    month = models.DateField(unique=True)
    marked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} changed {self.marked_at:%Y-%m-%d %H:%M}"
