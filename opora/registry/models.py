"""Local copies of the national registries (ЦБД, ЦБДИ), their imports, and every eligibility check."""

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from opora.core.fields import BlindIndexField, EncryptedCharField

# The longest name part and the longest relation or disability group a registry row may hold (the
# sealed values have no column of their own to carry a max_length).
NAME_MAX = 150
SHORT_MAX = 64


class RegistrySource(models.TextChoices):
    CBD = "cbd", _("ЦБД (benefit recipients)")
    CBDI = "cbdi", _("ЦБДИ (persons with disability)")


class RegistryRecord(models.Model):
    """One registry row.

    ЦБД: `iin` is the benefit recipient, `child_iin` the disabled child they raise, `status` active or
    inactive. ЦБДИ: `iin` is the person with disability, `child_iin` is empty, `birth_date`,
    `category` and `valid_until` (None = indefinite) describe the disability.
    """

    source = models.CharField(max_length=4, choices=RegistrySource.choices)
    # The personal values (IINs, names, birth date, disability group and its end) sealed together
    # (registry.sealing); read and set them through the properties below, look rows up by the
    # blind indexes. Nothing filters on them in SQL.
    sealed = models.TextField(default="", editable=False)
    iin_bidx = models.CharField(max_length=32, default="", editable=False)
    child_iin_bidx = models.CharField(max_length=32, blank=True, default="", editable=False)
    relation = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)
    # The sealed values, as properties (defined below the class).
    iin: str
    child_iin: str
    last_name: str
    first_name: str
    patronymic: str
    category: str
    birth_date: dt.date | None
    valid_until: dt.date | None

    class Meta:
        verbose_name = _("registry record")
        verbose_name_plural = _("registry records")
        constraints = [
            # Led by iin_bidx, so that it also answers the lookups by the person's IIN: one index
            # fewer to build after a first import (the child's IIN has its own).
            models.UniqueConstraint(
                fields=["iin_bidx", "child_iin_bidx", "source"], name="registry_record_natural_key"
            ),
            models.CheckConstraint(
                condition=Q(source__in=["cbd", "cbdi"]), name="registry_source_valid"
            ),
            models.CheckConstraint(
                condition=~Q(source="cbd") | Q(status__in=["active", "inactive"]),
                name="registry_cbd_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["child_iin_bidx"], name="registry_child_iin_idx")]

    def __str__(self) -> str:
        return f"{self.source}#{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        from opora.registry.sealing import SEALED, index_of, sealer

        values = self._values()
        self.sealed = sealer()(tuple(values[k] for k in SEALED))
        self.iin_bidx = index_of(values["iin"])
        self.child_iin_bidx = index_of(values["child_iin"])
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {
                *update_fields,
                "sealed",
                "iin_bidx",
                "child_iin_bidx",
            } - set(SEALED_PROPERTIES)
        super().save(*args, **kwargs)

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__.pop("_plain", None)
        super().refresh_from_db(*args, **kwargs)

    def _values(self) -> dict[str, str]:
        values = self.__dict__.get("_plain")
        if values is None:
            from opora.registry.sealing import unseal

            values = self.__dict__["_plain"] = unseal(self.sealed)
        return values


def _sealed_property(name: str) -> property:
    def get(self: RegistryRecord) -> str:
        return self._values()[name]

    def set_(self: RegistryRecord, value: str) -> None:
        self._values()[name] = value or ""

    return property(get, set_, doc=f"The record's {name} (sealed at rest).")


def _sealed_date_property(name: str) -> property:
    def get(self: RegistryRecord) -> dt.date | None:
        value = self._values()[name]
        return dt.date.fromisoformat(value) if value else None

    def set_(self: RegistryRecord, value: dt.date | str | None) -> None:
        if isinstance(value, str):
            value = dt.date.fromisoformat(value) if value else None
        self._values()[name] = value.isoformat() if value else ""

    return property(get, set_, doc=f"The record's {name} (sealed at rest; None for none).")


# ЦБД: `iin` is the benefit recipient, `child_iin` the disabled child they raise; ЦБДИ: `iin` is
# the person with disability, `child_iin` is empty, `birth_date` theirs, `category` the disability
# group and `valid_until` its end (None: indefinite).
SEALED_TEXT = ("iin", "child_iin", "last_name", "first_name", "patronymic", "category")
SEALED_DATES = ("birth_date", "valid_until")
SEALED_PROPERTIES = SEALED_TEXT + SEALED_DATES
for _name in SEALED_TEXT:
    setattr(RegistryRecord, _name, _sealed_property(_name))
for _name in SEALED_DATES:
    setattr(RegistryRecord, _name, _sealed_date_property(_name))


class ImportRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    source = models.CharField(max_length=4, choices=RegistrySource.choices)
    file_name = models.CharField(max_length=300)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    rows_read = models.PositiveIntegerField(default=0)
    rows_loaded = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    # [{"line": 12, "reason": "..."}], capped; never the row's content (it is personal data).
    errors = models.JSONField(default=list, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("registry import")
        verbose_name_plural = _("registry imports")

    def __str__(self) -> str:
        return f"import#{self.pk} {self.source} {self.status}"


class EligibilityCheck(models.Model):
    """Every check the operator (or an integration) ran: who, when, what was asked, the answer."""

    class Reason(models.TextChoices):
        ELIGIBLE_CBD = "eligible_cbd", _("Active benefit recipient in ЦБД")
        ELIGIBLE_CBDI = "eligible_cbdi", _("Child with disability in ЦБДИ")
        NOT_REGISTERED = "not_registered", _("Not registered")
        INACTIVE = "inactive", _("Benefit recipient is not active")
        NAME_MISMATCH = "name_mismatch", _("Full name does not match the registry")
        DISABILITY_EXPIRED = "disability_expired", _("Disability status has expired")

    service = models.ForeignKey("core.Service", models.PROTECT, related_name="+", null=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    iin = EncryptedCharField(max_length=12)
    iin_bidx = BlindIndexField(source="iin", kind="iin", db_index=True)
    full_name = EncryptedCharField(max_length=400)
    eligible = models.BooleanField()
    reason = models.CharField(max_length=32, choices=Reason.choices)
    matched_record = models.ForeignKey(
        RegistryRecord, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    child_iin = EncryptedCharField(max_length=12, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("eligibility check")
        verbose_name_plural = _("eligibility checks")

    def __str__(self) -> str:
        return f"check#{self.pk} {self.reason}"
