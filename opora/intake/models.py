"""Clients (parents and legal representatives), their children, and requests (заявки)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Client(models.Model):
    """A parent, adoptive parent, guardian or other legal representative."""

    last_name = models.CharField(_("last name"), max_length=150)
    first_name = models.CharField(_("first name"), max_length=150)
    patronymic = models.CharField(_("patronymic"), max_length=150, blank=True)
    # NULL, not "", for "no IIN": the unique constraint must ignore clients without one.
    iin = models.CharField(_("IIN"), max_length=12, null=True, blank=True)  # noqa: DJ001
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    phone_extra = models.CharField(_("additional phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    region = models.ForeignKey(
        "core.Region", models.PROTECT, null=True, blank=True, verbose_name=_("region")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        constraints = [
            models.UniqueConstraint(
                fields=["iin"], condition=Q(iin__isnull=False), name="client_iin_unique"
            ),
        ]
        indexes = [models.Index(fields=["phone"]), models.Index(fields=["last_name", "first_name"])]

    def __str__(self) -> str:
        return f"client#{self.pk}"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)


class Child(models.Model):
    client = models.ForeignKey(Client, models.CASCADE, related_name="children")
    iin = models.CharField(_("IIN"), max_length=12, blank=True)
    full_name = models.CharField(_("full name"), max_length=400, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)

    class Meta:
        verbose_name = _("child")
        verbose_name_plural = _("children")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "iin"], condition=~Q(iin=""), name="child_unique_per_client"
            )
        ]

    def __str__(self) -> str:
        return f"child#{self.pk}"


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    PORTAL = "portal", _("Website")
    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    VIBER = "viber", _("Viber")
    VK = "vk", _("VK")
    IN_PERSON = "in_person", _("In person")
    API = "api", _("Integration")


class RefusalGround(models.TextChoices):
    """Regulation 000 §9 and §10, and the design's unethical-behaviour ground."""

    NOT_REGISTERED = (
        "not_registered",
        _(
            "Not registered in ЦБД as an active benefit recipient raising a disabled child, "
            "nor is the child registered in ЦБДИ"
        ),
    )
    OBSCENE_LANGUAGE = (
        "obscene_language",
        _("Obscene language or unfounded insults, including under alcohol or drug intoxication"),
    )
    OUT_OF_COMPETENCE = "out_of_competence", _("The question is outside the service's competence")
    UNETHICAL_BEHAVIOUR = "unethical_behaviour", _("Unethical or aggressive behaviour")


class ServiceRequest(models.Model):
    """A request (заявка). Each new request is a new service; the journal is a view over these."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        BOOKED = "booked", _("Booked")
        REFUSED = "refused", _("Refused")
        REDIRECTED = "redirected", _("Redirected")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    service = models.ForeignKey("core.Service", models.PROTECT, related_name="requests")
    client = models.ForeignKey(
        Client, models.PROTECT, null=True, blank=True, related_name="requests"
    )
    child = models.ForeignKey(Child, models.SET_NULL, null=True, blank=True, related_name="+")
    full_name = models.CharField(_("full name"), max_length=400)
    iin = models.CharField(_("IIN"), max_length=12, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    phone_extra = models.CharField(_("additional phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    region = models.ForeignKey(
        "core.Region", models.PROTECT, null=True, blank=True, verbose_name=_("region")
    )
    desired_at = models.DateTimeField(_("desired date and time"), null=True, blank=True)
    reason = models.TextField(_("reason for the request"), blank=True)
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.PHONE
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW
    )
    refusal_ground = models.CharField(
        _("refusal ground"), max_length=32, choices=RefusalGround.choices, blank=True
    )
    referral_text = models.TextField(_("referral"), blank=True)
    refusal_note = models.TextField(_("refusal note"), blank=True)
    eligibility_check = models.ForeignKey(
        "registry.EligibilityCheck", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("registered"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(refusal_ground=""),
                name="request_refusal_has_ground",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["new", "booked", "refused", "redirected", "done", "cancelled"]
                ),
                name="request_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["service", "created_at"]), models.Index(fields=["iin"])]

    def __str__(self) -> str:
        return f"request#{self.pk}"
