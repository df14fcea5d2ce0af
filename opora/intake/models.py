"""Clients (parents and legal representatives), their children, and requests (заявки)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from opora.accounts.specialties import LanguageCode, TopicClass
from opora.core.fields import (
    BlindIndexField,
    EncryptedCharField,
    EncryptedDateField,
    EncryptedEmailField,
    EncryptedTextField,
    NameTokensField,
)


class Client(models.Model):
    """A parent, adoptive parent, guardian or other legal representative."""

    # Personal values are encrypted at rest (core.fields); searches go through the blind indexes
    # and the name tokens beside them (intake.selectors.client_search).
    last_name = EncryptedCharField(_("last name"), max_length=150)
    first_name = EncryptedCharField(_("first name"), max_length=150)
    patronymic = EncryptedCharField(_("patronymic"), max_length=150, blank=True)
    name_tokens = NameTokensField(
        sources=("last_name", "first_name", "patronymic"),
        fold="opora.registry.names.normalise_name_part",
    )
    # NULL, not "", for "no IIN" (its blind index is then "", which the constraint ignores).
    iin = EncryptedCharField(_("IIN"), max_length=12, null=True, blank=True)  # noqa: DJ001
    iin_bidx = BlindIndexField(source="iin", kind="iin")
    phone = EncryptedCharField(_("phone"), max_length=32, blank=True)
    phone_bidx = BlindIndexField(source="phone", kind="phone", db_index=True)
    phone_extra = EncryptedCharField(_("additional phone"), max_length=32, blank=True)
    phone_extra_bidx = BlindIndexField(source="phone_extra", kind="phone", db_index=True)
    email = EncryptedEmailField(_("e-mail"), blank=True)
    email_bidx = BlindIndexField(source="email", kind="email", db_index=True)
    region = models.ForeignKey(
        "core.Region", models.PROTECT, null=True, blank=True, verbose_name=_("region")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        constraints = [
            models.UniqueConstraint(
                fields=["iin_bidx"], condition=~Q(iin_bidx=""), name="client_iin_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"client#{self.pk}"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)


class Child(models.Model):
    client = models.ForeignKey(Client, models.CASCADE, related_name="children")
    iin = EncryptedCharField(_("IIN"), max_length=12, blank=True)
    iin_bidx = BlindIndexField(source="iin", kind="iin")
    full_name = EncryptedCharField(_("full name"), max_length=400, blank=True)
    # A child's birth date is personal: encrypted (no query filters or orders by it).
    birth_date = EncryptedDateField(_("birth date"), null=True, blank=True)

    class Meta:
        verbose_name = _("child")
        verbose_name_plural = _("children")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "iin_bidx"],
                condition=~Q(iin_bidx=""),
                name="child_unique_per_client",
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


class RequesterKind(models.TextChoices):
    """Who is asking (regulation 004 also serves people planning to foster)."""

    PARENT = "parent", _("Parent")
    REPRESENTATIVE = "representative", _("Legal representative (guardian, adoptive parent)")
    PLANNING_TO_FOSTER = (
        "planning_to_foster",
        _("Planning to take a child without parental care into the family"),
    )


class TypicalQuestion(models.TextChoices):
    """The form of typical questions a client may pick instead of writing their own (regulation 004)."""

    DEVELOPMENT = "development", _("The child's development and behaviour")
    UPBRINGING = "upbringing", _("Upbringing and family relations")
    EDUCATION = "education", _("Education: kindergarten, school, inclusive learning")
    SOCIALISATION = "socialisation", _("Socialisation, leisure and friends")
    REHABILITATION = "rehabilitation", _("Rehabilitation and medical-social assessment")
    STATE_SUPPORT = "state_support", _("Benefits, state support and rights")
    PARENT_WELLBEING = "parent_wellbeing", _("Parent's own stress and emotional state")
    FOSTERING = "fostering", _("Taking a child without parental care into the family")
    OTHER = "other", _("Other question")


class ServiceForm(models.TextChoices):
    """The form in which help is given or wanted (regulations 002 §3, 004)."""

    VIDEO = "video", _("Video")
    VOICE = "voice", pgettext_lazy("form of help", "Voice call")
    CHAT = "chat", _("Text chat")
    PHONE = "phone", _("Phone")
    WRITTEN = "written", _("Written answer (e-mail)")
    IN_PERSON = "in_person", _("In person")


class ServiceKind(models.TextChoices):
    """Regulation 004: content consulting, or dispatcher consulting (a referral elsewhere)."""

    CONTENT = "content", _("Consulting")
    DISPATCHER = "dispatcher", _("Dispatcher consulting (referral)")


class ConsentText(models.Model):
    """A version of the consent to personal-data processing; a request keeps the one agreed to."""

    service = models.ForeignKey(
        "core.Service", models.CASCADE, null=True, blank=True, related_name="consent_texts"
    )
    version = models.CharField(_("version"), max_length=32)
    text_ru = models.TextField(_("text (Russian)"))
    text_kk = models.TextField(_("text (Kazakh)"), blank=True)
    text_en = models.TextField(_("text (English)"), blank=True)
    published_at = models.DateTimeField(_("published"), auto_now_add=True)

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = _("consent text")
        verbose_name_plural = _("consent texts")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "version"], name="consent_text_version_unique"
            ),
            # NULLs are distinct in a unique index: the default text (no service) needs its own
            models.UniqueConstraint(
                fields=["version"],
                condition=models.Q(service__isnull=True),
                name="consent_text_default_version_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"consent {self.version}"

    @property
    def text(self) -> str:
        lang = (get_language() or "ru")[:2]
        return getattr(self, f"text_{lang}", "") or self.text_ru


class Referral(models.Model):
    """The referral directory (regulation 000 §10, dispatcher consulting of regulation 004)."""

    name = models.CharField(_("organisation"), max_length=300)
    helps_with = models.TextField(_("what they help with"))
    country = models.CharField(_("country"), max_length=2, blank=True)
    region = models.ForeignKey(
        "core.Region", models.PROTECT, null=True, blank=True, verbose_name=_("region")
    )
    phone = models.CharField(_("phone"), max_length=64, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    hours = models.CharField(_("hours"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("referral directory entry")
        verbose_name_plural = _("referral directory")

    def __str__(self) -> str:
        return self.name


class ServiceRequest(models.Model):
    """A request (заявка). Each new request is a new service; the journal is a view over these."""

    class Status(models.TextChoices):
        """One lifecycle: new → booked → done, or cancelled / no_show / refused / redirected.

        "Held" (the consultation ended, the protocol not yet written) is not a status of its own:
        it is the booked request's consultation being ended, so it is read from the consultation
        (`consultations.selectors`) rather than copied here, where the two could disagree. Saving
        the protocol closes the request (done) in the same transaction. A technical failure
        without a new time sends the request back to new: it stays one request (counted once).
        """

        NEW = "new", _("New")
        BOOKED = "booked", _("Booked")
        REFUSED = "refused", _("Refused")
        REDIRECTED = "redirected", _("Redirected")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("Client did not come")

    service = models.ForeignKey("core.Service", models.PROTECT, related_name="requests")
    client = models.ForeignKey(
        Client, models.PROTECT, null=True, blank=True, related_name="requests"
    )
    child = models.ForeignKey(Child, models.SET_NULL, null=True, blank=True, related_name="+")
    # Blank only for an anonymous request (checked by a constraint).
    full_name = EncryptedCharField(_("full name"), max_length=400, blank=True)
    iin = EncryptedCharField(_("IIN"), max_length=12, blank=True)
    iin_bidx = BlindIndexField(source="iin", kind="iin", db_index=True)
    phone = EncryptedCharField(_("phone"), max_length=32, blank=True)
    phone_bidx = BlindIndexField(source="phone", kind="phone", db_index=True)
    phone_extra = EncryptedCharField(_("additional phone"), max_length=32, blank=True)
    email = EncryptedEmailField(_("e-mail"), blank=True)
    email_bidx = BlindIndexField(source="email", kind="email", db_index=True)
    region = models.ForeignKey(
        "core.Region", models.PROTECT, null=True, blank=True, verbose_name=_("region")
    )
    desired_at = models.DateTimeField(_("desired date and time"), null=True, blank=True)
    reason = EncryptedTextField(_("reason for the request"), blank=True)
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.PHONE
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW
    )
    refusal_ground = models.CharField(
        _("refusal ground"), max_length=32, choices=RefusalGround.choices, blank=True
    )
    referral_text = EncryptedTextField(_("referral"), blank=True)
    refusal_note = EncryptedTextField(_("refusal note"), blank=True)
    eligibility_check = models.ForeignKey(
        "registry.EligibilityCheck", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Issue 4: who asks, about what, how they want the answer; anonymity; consent; counting.
    requester_kind = models.CharField(
        _("who is asking"), max_length=32, choices=RequesterKind.choices, blank=True
    )
    child_age = models.PositiveSmallIntegerField(_("child's age, years"), null=True, blank=True)
    typical_question = models.CharField(
        _("typical question"), max_length=32, choices=TypicalQuestion.choices, blank=True
    )
    preferred_form = models.CharField(
        _("preferred form"), max_length=16, choices=ServiceForm.choices, blank=True
    )
    is_anonymous = models.BooleanField(_("anonymous"), default=False)
    # Issue 12: the topic class (regulation 002) and language, for choosing a competent consultant.
    topic = models.CharField(_("topic"), max_length=2, choices=TopicClass.choices, blank=True)
    language = models.CharField(
        _("language of help"), max_length=8, choices=LanguageCode.choices, blank=True
    )
    # A short code the client quotes and the private link's token to follow the request.
    public_code = models.CharField(
        _("request code"), max_length=16, unique=True, null=True, blank=True
    )  # noqa: DJ001
    # Looked up by its keyed hash (unique); kept encrypted because notices show the link again.
    public_token = EncryptedCharField(  # noqa: DJ001
        max_length=64, null=True, blank=True, editable=False
    )
    public_token_hash = BlindIndexField(source="public_token", kind="token")
    consent = models.ForeignKey(
        ConsentText,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("consent to personal data processing"),
    )
    consented_at = models.DateTimeField(_("consent given"), null=True, blank=True)
    kind = models.CharField(
        _("kind of service"),
        max_length=16,
        choices=ServiceKind.choices,
        default=ServiceKind.CONTENT,
    )
    referral = models.ForeignKey(
        Referral,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("referred to"),
    )
    # Regulation 004: both parents on one question count once — the second points at the first.
    counted_with = models.ForeignKey(
        "self",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="counted_together",
        verbose_name=_("counted with request"),
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_requests",
        verbose_name=_("responsible consultant"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("registered"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Issue 15: past its retention term the request keeps only what reports count (dates, kind,
    # status, channel, topic); its personal fields are blanked and this says when.
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True)

    # Not a column: `intake.services.referral_send` says on the request it returns whether the
    # client was sent the referral.
    notified: bool = False

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        constraints = [
            models.UniqueConstraint(
                fields=["public_token_hash"],
                condition=~Q(public_token_hash=""),
                name="request_public_token_unique",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(refusal_ground=""),
                name="request_refusal_has_ground",
            ),
            models.CheckConstraint(
                condition=Q(is_anonymous=True) | ~Q(full_name="") | Q(anonymised_at__isnull=False),
                name="request_named_unless_anonymous",
            ),
            models.CheckConstraint(
                condition=Q(consent__isnull=True) | Q(consented_at__isnull=False),
                name="request_consent_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(counted_with=models.F("id")),
                name="request_not_counted_with_itself",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "new",
                        "booked",
                        "refused",
                        "redirected",
                        "done",
                        "cancelled",
                        "no_show",
                    ]
                ),
                name="request_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["service", "created_at"])]

    def __str__(self) -> str:
        return f"request#{self.pk}"


class ChildHelpReferral(models.Model):
    """Regulation 004: the service does not help children; a request that needs help for the
    child directly gets the scripted explanation and a referral to the bodies and organisations
    that do (from the referral directory). One per request; the text is kept as it was sent."""

    class Source(models.TextChoices):
        REQUEST = "request", _("Marked on the request")
        PROTOCOL = "protocol", _("Marked by the consultant after the consultation")

    request = models.OneToOneField(
        ServiceRequest, models.PROTECT, related_name="child_help_referral"
    )
    organisations = models.ManyToManyField(
        Referral, related_name="child_help_referrals", verbose_name=_("referred to")
    )
    source = models.CharField(
        _("marked"), max_length=16, choices=Source.choices, default=Source.REQUEST
    )
    # What the child needs and what the client was told: personal, encrypted at rest.
    note = EncryptedTextField(_("what the child needs"), blank=True)
    message = EncryptedTextField(_("message to the client"))
    # The notification channel the message went by ("" when there was no address).
    sent_via = models.CharField(_("sent by"), max_length=16, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("marked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("referral for the child's direct help")
        verbose_name_plural = _("referrals for the child's direct help")

    def __str__(self) -> str:
        return f"child-help#{self.pk}"


class ConsentKind(models.TextChoices):
    """What a consent covers (152-FZ art. 9; special categories under art. 10 as amended 2025
    need their own, separate written consent; recording per regulation 004)."""

    PROCESSING = "processing", _("Processing of personal data")
    SPECIAL = "special", _("Processing of health and disability data")
    RECORDING = "recording", _("Recording of the consultation")


class ConsentChannel(models.TextChoices):
    PORTAL = "portal", _("Website")
    PHONE = "phone", _("Operator, by phone")
    EMAIL = "email", _("E-mail")
    MESSENGER = "messenger", _("Messenger")
    ROOM = "room", _("Consultation room")
    PAPER = "paper", _("In writing, on paper")


class ConsentRecord(models.Model):
    """One consent given by a client for one request, and its withdrawal.

    A record is never deleted or edited except to add the withdrawal: what was agreed, in which
    text version, when and through which channel stays provable. Withdrawal stops what it covers
    (`intake.consents`)."""

    kind = models.CharField(_("kind"), max_length=16, choices=ConsentKind.choices)
    request = models.ForeignKey(
        ServiceRequest, models.CASCADE, related_name="consent_records", verbose_name=_("request")
    )
    client = models.ForeignKey(
        Client,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="consent_records",
        verbose_name=_("client"),
    )
    text = models.ForeignKey(ConsentText, models.PROTECT, null=True, blank=True, related_name="+")
    text_version = models.CharField(_("text version"), max_length=32)
    given_at = models.DateTimeField(_("given"))
    channel = models.CharField(_("channel"), max_length=16, choices=ConsentChannel.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_channel = models.CharField(
        _("withdrawn through"), max_length=16, choices=ConsentChannel.choices, blank=True
    )
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-given_at", "-pk"]
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        constraints = [
            models.UniqueConstraint(
                fields=["request", "kind"],
                condition=Q(withdrawn_at__isnull=True),
                name="consent_one_active_per_request_kind",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True, withdrawn_channel="")
                | Q(withdrawn_at__isnull=False, withdrawn_at__gte=models.F("given_at"))
                & ~Q(withdrawn_channel=""),
                name="consent_withdrawal_complete",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["processing", "special", "recording"]),
                name="consent_kind_valid",
            ),
        ]
        indexes = [models.Index(fields=["client", "kind"])]

    def __str__(self) -> str:
        return f"consent#{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None
