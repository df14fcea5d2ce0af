"""Staff users with one role in one organisation, and API tokens for integrations."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OPERATOR = "operator", _("Operator")
    COORDINATOR = "coordinator", _("Coordinator")
    CONSULTANT = "consultant", _("Consultant")
    HEAD = "head", _("Head")
    AUTHORITY = "authority", _("Authority")
    ADMIN = "admin", _("Administrator")
    # Reads the audit log and is alerted when its chain breaks (issue 15).
    SECURITY_OFFICER = "security_officer", _("Security officer")


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, blank=True)
    organisation = models.ForeignKey(
        "core.Organisation",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("organisation"),
    )
    services = models.ManyToManyField(
        "core.Service", blank=True, related_name="staff", verbose_name=_("services")
    )
    patronymic = models.CharField(_("patronymic"), max_length=150, blank=True)
    # What a consultant does (psychologist, lawyer, social worker...): shown in the operator's
    # booking grid and its filter. Free text, blank for other roles.
    specialty = models.CharField(_("specialty"), max_length=100, blank=True)
    # The service a staff member of several services last chose to work in (kept across sign-ins;
    # checked against `services` on every request, see opora.accounts.selectors).
    current_service = models.ForeignKey(
        "core.Service",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("current service"),
    )

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    @property
    def display_name(self) -> str:
        parts = [self.last_name, self.first_name, self.patronymic]
        return " ".join(p for p in parts if p) or self.username

    def has_role(self, *roles: str) -> bool:
        return self.is_active and (self.role in roles or self.is_superuser)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for `/api/v1/`. Only the SHA-256 of the token is stored."""

    user = models.ForeignKey(User, models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.user.username} {self.prefix}…"

    @staticmethod
    def generate() -> str:
        return "opora_" + secrets.token_urlsafe(32)
