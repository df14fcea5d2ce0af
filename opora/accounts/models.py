"""Staff users with one role in one organisation, and API tokens for integrations."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin

from opora.accounts.specialties import LanguageCode, TopicClass
from opora.core.fields import EncryptedCharField, EncryptedEmailField


class Role(models.TextChoices):
    OPERATOR = "operator", _("Operator")
    COORDINATOR = "coordinator", _("Coordinator")
    CONSULTANT = "consultant", _("Consultant")
    HEAD = "head", _("Head")
    AUTHORITY = "authority", _("Authority")
    ADMIN = "admin", _("Administrator")
    # Reads the audit log and is alerted when its chain breaks (issue 15).
    SECURITY_OFFICER = "security_officer", _("Security officer")


# `security_keys` (WebAuthnCredential.user): its base, django-otp's Device, has no types, so the
# plugin cannot build the reverse manager.
class User(AbstractUser):  # type: ignore[django-manager-missing]
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
    # Issue 12: the topic classes of regulation 002 a consultant is competent for and the languages
    # they consult in; the operator's booking grid puts the competent consultants first.
    specialties = models.ManyToManyField(
        "accounts.Specialty", blank=True, related_name="staff", verbose_name=_("specialties")
    )
    languages = models.ManyToManyField(
        "accounts.Language", blank=True, related_name="staff", verbose_name=_("languages")
    )
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


class Specialty(models.Model):
    """One topic class of regulation 002 a consultant may be competent for (seeded, seven rows)."""

    topic = models.CharField(_("topic"), max_length=2, choices=TopicClass.choices, unique=True)

    class Meta:
        ordering = ["topic"]
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")

    def __str__(self) -> str:
        return str(self.get_topic_display())


class Language(models.Model):
    """A language a consultant consults in (seeded: Russian, Kazakh, English)."""

    code = models.CharField(_("code"), max_length=8, choices=LanguageCode.choices, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("language")
        verbose_name_plural = _("languages")

    def __str__(self) -> str:
        return str(self.get_code_display())


class ResponsibleSide(models.TextChoices):
    """The two sides of regulation 001 §10: who takes the calls, and who consults."""

    INTAKE = "intake", _("Intake side (call centre)")
    PROVIDER = "provider", _("Provider side (consultants)")


class ResponsiblePerson(models.Model):
    """Regulation 001 §10: the responsible person of one side of a service, for a period.

    A change never edits a row: the current one gets `valid_to` and a new row starts, so the
    register keeps its history. `is_late` marks a change recorded later than one working day
    after it took effect (the service's calendar).
    """

    service = models.ForeignKey(
        "core.Service",
        models.PROTECT,
        related_name="responsible_persons",
        verbose_name=_("service"),
    )
    side = models.CharField(_("side"), max_length=16, choices=ResponsibleSide.choices)
    organisation = models.ForeignKey(
        "core.Organisation", models.PROTECT, related_name="+", verbose_name=_("organisation")
    )
    # The person's name and own contacts are encrypted at rest (core.sensitive); nothing looks
    # the register up by them. The position is a post's title, not personal.
    full_name = EncryptedCharField(_("full name"), max_length=300)
    position = models.CharField(_("position"), max_length=300, blank=True)
    phone = EncryptedCharField(_("phone"), max_length=32, blank=True)
    email = EncryptedEmailField(_("e-mail"), blank=True)
    valid_from = models.DateField(_("in effect from"))
    valid_to = models.DateField(_("in effect until"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    recorded_by = models.ForeignKey(
        "User", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_late = models.BooleanField(_("recorded late"), default=False)

    class Meta:
        ordering = ["service", "side", "-valid_from", "-pk"]
        verbose_name = _("responsible person")
        verbose_name_plural = _("responsible persons")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "side"],
                condition=Q(valid_to__isnull=True),
                name="responsible_one_current_per_side",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="responsible_period_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_side_display()}: {self.full_name}"


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


class WebAuthnCredential(TimestampMixin, ThrottlingMixin, Device):
    """A staff member's security key or passkey (WebAuthn), a second factor beside the app's code.

    A django-otp device, so a session signed in with it is "verified" exactly as with a code
    (`otp_login`, the middleware, the room's `may_act`); it never matches a typed code
    (`verify_token` is django-otp's default: no). Only the public key is stored; the private key
    never leaves the authenticator. `name`, `created_at` and `last_used_at` come from django-otp.
    """

    # django-otp's own field, named here so that the relation is typed (`user.security_keys`).
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="security_keys")
    # The authenticator's credential id, base64url (the spec allows up to 1023 bytes).
    credential_id = models.CharField(max_length=1400, unique=True)
    public_key = models.BinaryField()  # COSE-encoded
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("security key")
        verbose_name_plural = _("security keys")

    def __str__(self) -> str:
        return self.name

    def get_throttle_factor(self) -> int:
        # After a failed key, as after a wrong code: a pause of 1, 2, 4... seconds.
        return int(getattr(settings, "OTP_WEBAUTHN_THROTTLE_FACTOR", 1))
