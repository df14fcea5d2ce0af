"""Reference data shared by every domain: regions, organisations, services (policy profiles), audit."""

import datetime as dt
import zoneinfo

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Country(models.TextChoices):
    KZ = "KZ", _("Kazakhstan")
    RU = "RU", _("Russia")


class Region(models.Model):
    """A region of a country: Kazakhstan's regions and cities, Russia's federal subjects."""

    code = models.CharField(max_length=16, unique=True)
    country = models.CharField(max_length=2, choices=Country.choices)
    kind = models.CharField(max_length=32)
    name_ru = models.CharField(max_length=200)
    name_kk = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200)

    class Meta:
        ordering = ["country", "name_ru"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        lang = (get_language() or "ru")[:2]
        return {"kk": self.name_kk, "en": self.name_en}.get(lang) or self.name_ru


class Organisation(models.Model):
    class Kind(models.TextChoices):
        MINISTRY = "ministry", _("Ministry")
        CALL_CENTRE = "call_centre", _("Call centre")
        UNIVERSITY = "university", _("University")
        SOCIAL_PROTECTION = "social_protection", _("Social protection office")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=300, unique=True)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, default=Kind.OTHER)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    email = models.EmailField(_("e-mail"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.short_name or self.name


# The texts a service shows to the public, kept per language: the base field holds Russian, the
# `<field>_kk` and `<field>_en` columns the translations (empty: the Russian text is shown).
SERVICE_TEXT_FIELDS = (
    "name",
    "public_description",
    "join_instructions",
    "change_instructions",
    "complaint_instructions",
)
SERVICE_TEXT_LANGUAGES = ("kk", "en")


class Service(models.Model):
    """A policy profile: the 1411 hotline and a district office differ only in these settings."""

    class Eligibility(models.TextChoices):
        NONE = "none", _("No eligibility check")
        KZ_REGISTRY = "kz_registry", _("ЦБД/ЦБДИ registry check by IIN and full name")

    class RecordingPolicy(models.TextChoices):
        NOTICE = "notice", _("Recorded with notice")
        CONSENT = "consent", _("Only with the client's written consent")
        NEVER = "never", _("Not recorded")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=300)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Almaty")
    holiday_calendar = models.CharField(
        _("holiday calendar"), max_length=8, help_text=_("Country code for public holidays")
    )
    intake_organisation = models.ForeignKey(
        Organisation, models.PROTECT, related_name="intake_services", verbose_name=_("intake")
    )
    provider_organisation = models.ForeignKey(
        Organisation, models.PROTECT, related_name="provided_services", verbose_name=_("provider")
    )
    authority = models.ForeignKey(
        Organisation,
        models.PROTECT,
        related_name="supervised_services",
        null=True,
        blank=True,
        verbose_name=_("authority"),
    )
    booking_opens = models.TimeField(_("booking reception opens"), default=dt.time(9, 0))
    booking_closes = models.TimeField(_("booking reception closes"), default=dt.time(18, 0))
    consultation_opens = models.TimeField(_("consultations start"), default=dt.time(14, 0))
    consultation_closes = models.TimeField(_("consultations end"), default=dt.time(18, 0))
    slot_minutes = models.PositiveSmallIntegerField(_("slot length, minutes"), default=60)
    max_consultation_minutes = models.PositiveSmallIntegerField(
        _("consultation limit, minutes"), default=60
    )
    channels = models.JSONField(_("channels"), default=list, blank=True)
    eligibility_rule = models.CharField(
        _("eligibility rule"), max_length=32, choices=Eligibility.choices, default=Eligibility.NONE
    )
    recording_policy = models.CharField(
        _("recording policy"),
        max_length=16,
        choices=RecordingPolicy.choices,
        default=RecordingPolicy.CONSENT,
    )
    written_answer_working_days = models.PositiveSmallIntegerField(
        _("written answer within, working days"), default=3
    )
    service_within_days = models.PositiveSmallIntegerField(
        _("service within, calendar days"), default=10
    )
    schedule_due_day = models.PositiveSmallIntegerField(
        _("schedule for next month due by day"), default=25
    )
    handoff_time = models.TimeField(_("daily hand-off time"), null=True, blank=True)
    handoff_email = models.EmailField(_("daily hand-off address"), blank=True)
    join_instructions = models.TextField(_("how to join"), blank=True)
    change_instructions = models.TextField(_("how to change a booking"), blank=True)
    public_phone = models.CharField(_("public phone"), max_length=32, blank=True)
    # The public portal (issue 4): what the service's page says and what it lets a client do.
    public_email = models.EmailField(_("public e-mail"), blank=True)
    public_description = models.TextField(_("what help is given and by whom"), blank=True)
    complaint_instructions = models.TextField(_("how to complain"), blank=True)
    allows_anonymous = models.BooleanField(
        _("anonymous requests allowed"),
        default=False,
        help_text=_("Regulation 004: a client may be served without giving personal data."),
    )
    allows_self_booking = models.BooleanField(
        _("clients may book a slot themselves"),
        default=False,
        help_text=_("Where the service checks eligibility, only after an online IIN check."),
    )
    allows_choosing_consultant = models.BooleanField(
        _("clients may choose the consultant"),
        default=False,
        help_text=_(
            "When booking online the client picks a time; with this on they may also pick a "
            "named consultant. Otherwise any free consultant is assigned."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Translations of the public texts (see SERVICE_TEXT_FIELDS and Service.text).
    name_kk = models.CharField(_("name in Kazakh"), max_length=300, blank=True)
    name_en = models.CharField(_("name in English"), max_length=300, blank=True)
    public_description_kk = models.TextField(_("what help is given, in Kazakh"), blank=True)
    public_description_en = models.TextField(_("what help is given, in English"), blank=True)
    join_instructions_kk = models.TextField(_("how to join, in Kazakh"), blank=True)
    join_instructions_en = models.TextField(_("how to join, in English"), blank=True)
    change_instructions_kk = models.TextField(_("how to change a booking, in Kazakh"), blank=True)
    change_instructions_en = models.TextField(_("how to change a booking, in English"), blank=True)
    complaint_instructions_kk = models.TextField(_("how to complain, in Kazakh"), blank=True)
    complaint_instructions_en = models.TextField(_("how to complain, in English"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [
            models.CheckConstraint(
                condition=Q(booking_opens__lt=models.F("booking_closes")),
                name="service_booking_hours_order",
            ),
            models.CheckConstraint(
                condition=Q(consultation_opens__lt=models.F("consultation_closes")),
                name="service_consultation_hours_order",
            ),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5) & Q(slot_minutes__lte=240),
                name="service_slot_minutes_range",
            ),
            models.CheckConstraint(
                condition=Q(schedule_due_day__gte=1) & Q(schedule_due_day__lte=28),
                name="service_schedule_due_day_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def text(self, field: str, language: str | None = None) -> str:
        """The public text `field` in `language` (default: the active one); Russian when the
        translation is empty."""
        if field not in SERVICE_TEXT_FIELDS:
            raise ValueError(f"{field!r} is not a translated text of a service")
        lang = (language or get_language() or settings.LANGUAGE_CODE).split("-")[0].lower()
        if lang in SERVICE_TEXT_LANGUAGES:
            translated = getattr(self, f"{field}_{lang}")
            if translated.strip():
                return translated
        return getattr(self, field)

    @property
    def display_name(self) -> str:
        """The name in the active language."""
        return self.text("name")

    @property
    def requires_eligibility(self) -> bool:
        return self.eligibility_rule != self.Eligibility.NONE


class CalendarOverride(models.Model):
    """A per-service exception to the country's calendar (a local day off, an extra working day)."""

    service = models.ForeignKey(Service, models.CASCADE, related_name="calendar_overrides")
    date = models.DateField(_("date"))
    is_working_day = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        constraints = [
            models.UniqueConstraint(fields=["service", "date"], name="calendar_override_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.service.code} {self.date} {'+' if self.is_working_day else '-'}"


class AuditEvent(models.Model):
    """Who did what to which record, written in the same transaction as the change it records.

    Append-only and chained (`core.audit_chain`): the writer inserts it unsealed; the sealer then
    gives it its place in the chain (`seq`, gapless) and a keyed hash (HMAC-SHA256) over its content
    and the previous event's hash, so an UPDATE, DELETE or reordering of rows is found by
    `opora verify_audit`. Database triggers refuse UPDATE and DELETE, except the one sealing
    UPDATE of an unsealed row that changes nothing but seq/prev_hash/hash (migration 0008). The actor's identity is kept as text (`actor_label`); a
    staff member with events is deactivated, never deleted (PROTECT).
    """

    # NULL until the sealer (`core.audit_chain.audit_seal`) numbers and chains the event.
    seq = models.BigIntegerField(_("number in the chain"), unique=True, null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Username and role at the time ("operator-1 (operator)"), or "system:scheduler",
    # "client:portal": never a personal name.
    actor_label = models.CharField(_("actor"), max_length=200, blank=True)
    event_type = models.CharField(max_length=64, db_index=True)
    subject_type = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=64)
    extra = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, null=True)  # noqa: DJ001 - NULL: not yet sealed
    hash = models.CharField(max_length=64, null=True)  # noqa: DJ001 - NULL: not yet sealed

    class Meta:
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"]),
            models.Index(fields=["actor", "created_at"], name="core_audit_actor_time"),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.event_type} {self.subject_type}#{self.subject_id}"


class AuditChainHead(models.Model):
    """The one row that holds the last event of the audit chain. The sealer locks it
    (`core.locks.audit_chain_head_qs_select_for_update`), so two sealers take their turn and the
    chain stays gapless and in order; writers never touch it."""

    ONE = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=ONE)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain head")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="audit_chain_head_one_row")]

    def __str__(self) -> str:
        return f"audit chain head #{self.seq}"


class RetentionKind(models.TextChoices):
    """What the retention job keeps for a term and then anonymises or deletes (`core.retention`)."""

    REQUESTS = "requests", _("Requests: names, IINs and contacts")
    CHAT = "chat", _("Consultation chat messages and files")
    RECORDINGS = "recordings", _("Recordings of consultations")
    LETTERS = "letters", _("Incoming letters")
    MESSENGER_MESSAGES = "messenger_messages", _("Messenger messages")
    MESSENGER_UPDATES = "messenger_updates", _("Raw messenger deliveries (webhook payloads)")
    PROTOCOLS = "protocols", _("Consultation protocols: names and texts")
    NOTIFICATIONS = "notifications", _("Sent notifications: addresses and texts")


class RetentionRule(models.Model):
    """How many days a kind of record is kept, per service (or for every service without its own).

    No rule for a kind (and no default in `OPORA_RETENTION_DAYS`): kept without a term."""

    service = models.ForeignKey(
        Service,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="retention_rules",
        verbose_name=_("service"),
    )
    kind = models.CharField(_("kind of record"), max_length=32, choices=RetentionKind.choices)
    days = models.PositiveIntegerField(_("kept, days"))

    class Meta:
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        constraints = [
            models.UniqueConstraint(fields=["service", "kind"], name="retention_rule_unique"),
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(service__isnull=True),
                name="retention_rule_default_unique",
            ),
            models.CheckConstraint(condition=models.Q(days__gte=1), name="retention_days_positive"),
        ]

    def __str__(self) -> str:
        return f"retention {self.kind}"


class Breach(models.Model):
    """A personal-data breach (incident) in the register the security officer keeps.

    Russia (152-FZ art. 21 §3.1): Roskomnadzor within 24 hours of detection, the investigation's
    results within 72 hours. Kazakhstan (Law No. 94-V art. 20-1): the authorised body within one
    working day. The deadlines are computed from `detected_at` (`web.breaches`); each notice sent
    is recorded here. Never a person's name or IIN in these fields: kinds and counts only."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    service = models.ForeignKey(
        Service,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="breaches",
        verbose_name=_("service"),
    )
    detected_at = models.DateTimeField(_("detected"))
    jurisdictions = models.JSONField(_("jurisdictions"), default=list)
    data_kinds = models.CharField(_("kinds of data affected"), max_length=500)
    affected_count = models.PositiveIntegerField(_("people affected (estimate)"), default=0)
    description = models.TextField(_("what happened"), max_length=4000)
    actions = models.TextField(_("actions taken"), max_length=4000, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    ru_notified_at = models.DateTimeField(_("Roskomnadzor notified"), null=True, blank=True)
    ru_results_at = models.DateTimeField(_("results sent to Roskomnadzor"), null=True, blank=True)
    kz_notified_at = models.DateTimeField(_("authorised body notified"), null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-detected_at", "-pk"]
        verbose_name = _("personal data breach")
        verbose_name_plural = _("personal data breaches")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "closed"]), name="breach_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"breach#{self.pk}"


class BreachAlert(models.Model):
    """That the security officers were alerted before (or at) one deadline of a breach: the
    unique key makes the beat task's alert go out once per deadline and stage."""

    breach = models.ForeignKey(Breach, models.CASCADE, related_name="alerts")
    deadline = models.CharField(max_length=16)  # ru_notice, ru_results, kz_notice
    stage = models.CharField(max_length=8)  # soon, overdue
    sent_at = models.DateTimeField(auto_now_add=True)
    recipients = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["breach", "deadline", "stage"], name="breach_alert_once"
            )
        ]

    def __str__(self) -> str:
        return f"breach-alert#{self.pk}"
