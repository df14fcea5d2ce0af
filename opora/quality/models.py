"""The parents' evaluation of a service: regulation 002's «АНКЕТА ДЛЯ РОДИТЕЛЕЙ», within the 3
calendar days regulation 004 allows after the service."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from opora.core.fields import EncryptedTextField

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The seven criteria of the questionnaire, in its order, on a 1–5 scale. The Russian texts are
# the regulation's own words (the `ru` catalogue; a test compares them with the regulation).
CRITERIA: tuple[tuple[str, StrOrPromise], ...] = (
    ("q1", pgettext_lazy("questionnaire 002", "Quality of the remote consultation")),
    (
        "q2",
        pgettext_lazy("questionnaire 002", "Match of the r/c's subject to the problem you brought"),
    ),
    ("q3", pgettext_lazy("questionnaire 002", "Emotional comfort of the r/c")),
    ("q4", pgettext_lazy("questionnaire 002", "Clarity and precision of the recommendations")),
    (
        "q5",
        pgettext_lazy(
            "questionnaire 002",
            "Importance (usefulness) of the recommendations for you and your child",
        ),
    ),
    (
        "q6",
        pgettext_lazy("questionnaire 002", "Improvement of your emotional state after the r/c"),
    ),
    (
        "q7",
        pgettext_lazy("questionnaire 002", "Rate the work of the specialist who held the r/c."),
    ),
)
CRITERION_FIELDS = tuple(name for name, _label in CRITERIA)
SCALE = range(1, 6)


class MoreOf(models.TextChoices):
    """«Стоит ли включать в дистанционное консультирование:» — the regulation's three answers."""

    PRACTICE = "practice", pgettext_lazy("questionnaire 002", "More practice")
    THEORY = "theory", pgettext_lazy("questionnaire 002", "More theory")
    ENOUGH = "enough", pgettext_lazy("questionnaire 002", "Everything was sufficient")


def new_token() -> str:
    # 256 random bits; kept as is (not hashed) because the link is sent again in the reminder and
    # shown on the room's closing page. Compared through a unique index.
    return secrets.token_urlsafe(32)


def _score_field(label: StrOrPromise) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        label,
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )


class Evaluation(models.Model):
    """One evaluation per service (a request done, or its consultation held): the link, the
    window it is open in, the draft answers and, once, the submitted ones.

    Who gave the service, its form, channel and topic are copied when it opens, so the results
    read one table and do not change when the request is edited later.
    """

    request = models.OneToOneField(
        "intake.ServiceRequest", models.PROTECT, related_name="evaluation"
    )
    consultation = models.ForeignKey(
        "consultations.Consultation", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    service = models.ForeignKey("core.Service", models.PROTECT, related_name="+")
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    form = models.CharField(_("form"), max_length=16, blank=True)
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    topic = models.CharField(_("topic"), max_length=32, blank=True)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    # When the service was given; the window closes at the end of the third calendar day after
    # it, in the service's time zone.
    served_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    invited_at = models.DateTimeField(null=True, blank=True)
    # How many messages the invitation made (0: an anonymous requester without a contact).
    invite_channels = models.PositiveSmallIntegerField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True)
    draft_saved_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    q1 = _score_field(CRITERIA[0][1])
    q2 = _score_field(CRITERIA[1][1])
    q3 = _score_field(CRITERIA[2][1])
    q4 = _score_field(CRITERIA[3][1])
    q5 = _score_field(CRITERIA[4][1])
    q6 = _score_field(CRITERIA[5][1])
    q7 = _score_field(CRITERIA[6][1])
    more_of = models.CharField(max_length=16, choices=MoreOf.choices, blank=True)
    impressions = EncryptedTextField(max_length=2000, blank=True)
    wishes = EncryptedTextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["-served_at"]
        indexes = [models.Index(fields=["service", "served_at"])]
        constraints = [
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{name}__isnull": True})
                    | Q(**{f"{name}__gte": 1, f"{name}__lte": 5}),
                    name=f"evaluation_{name}_1_to_5",
                )
                for name in CRITERION_FIELDS
            ],
            # A submitted evaluation has every one of the seven scores.
            models.CheckConstraint(
                condition=Q(submitted_at__isnull=True)
                | Q(**{f"{name}__isnull": False for name in CRITERION_FIELDS}),
                name="evaluation_submitted_complete",
            ),
            models.CheckConstraint(
                condition=Q(more_of__in=["", *MoreOf.values]), name="evaluation_more_of_valid"
            ),
            models.CheckConstraint(
                condition=Q(served_at__lt=models.F("closes_at")), name="evaluation_window_order"
            ),
        ]

    def __str__(self) -> str:
        return f"evaluation#{self.pk}"

    def scores(self) -> list[int | None]:
        return [getattr(self, name) for name in CRITERION_FIELDS]

    @property
    def average(self) -> Decimal | None:
        values = [v for v in self.scores() if v is not None]
        if len(values) != len(CRITERION_FIELDS):
            return None
        return (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01"))


class QualitySettings(models.Model):
    """Per service: the average below which one evaluation alerts the heads."""

    service = models.OneToOneField(
        "core.Service", models.CASCADE, related_name="quality_settings", verbose_name=_("service")
    )
    low_score_threshold = models.DecimalField(
        _("low score threshold (average of the seven criteria)"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("3.00"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("5"))],
        help_text=_("An evaluation whose average is below this alerts the service's heads."),
    )

    class Meta:
        verbose_name = _("quality evaluation settings")
        verbose_name_plural = _("quality evaluation settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(low_score_threshold__gte=1) & Q(low_score_threshold__lte=5),
                name="quality_threshold_1_to_5",
            )
        ]

    def __str__(self) -> str:
        return f"quality settings {self.service_id}"
