"""Consultant schedules, the slots they open, bookings of slots, and the daily hand-off."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from opora.core.fields import EncryptedCharField, EncryptedTextField


class ConsultationForm(models.TextChoices):
    """The form of a consultation (regulations 002 §3, 004): where and how help is given.

    Kept here, below consultations, because a slot already carries the form it is offered in."""

    IN_PERSON = "in_person", _("In person at the service")
    VISITING = "visiting", _("Visiting (at home, school, an event)")
    VIDEO = "video", _("Video")
    VOICE = "voice", pgettext_lazy("form of help", "Voice call")
    CHAT = "chat", _("Text chat")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    MESSENGER = "messenger", _("Messenger")


# Forms held face to face: no room, the consultant marks them held or not.
FACE_TO_FACE_FORMS = frozenset({ConsultationForm.IN_PERSON, ConsultationForm.VISITING})
# Written forms: a thread of letters or messages, answered and closed with a protocol.
WRITTEN_FORMS = frozenset({ConsultationForm.EMAIL, ConsultationForm.MESSENGER})


class Place(models.Model):
    """A room or an address of a service where in-person consultations are held (regulation 004)."""

    class Kind(models.TextChoices):
        ROOM = "room", _("Room at the service")
        ADDRESS = "address", _("Other address")

    service = models.ForeignKey("core.Service", models.PROTECT, related_name="places")
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.ROOM)
    is_active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service", "name"]
        verbose_name = _("place")
        verbose_name_plural = _("places")
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="place_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Schedule(models.Model):
    """A consultant's month (график работы): entered or imported by the coordinator, approved by the head."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for approval")
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Returned for changes")

    service = models.ForeignKey("core.Service", models.PROTECT, related_name="schedules")
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="schedules"
    )
    month = models.DateField(_("month"), help_text=_("First day of the month"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    comment = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["month", "consultant__last_name"]
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "consultant", "month"], name="schedule_one_per_month"
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="schedule_month_first_day"),
        ]

    def __str__(self) -> str:
        return f"schedule#{self.pk} {self.month:%Y-%m}"


class SchedulePeriod(models.Model):
    """One working period of a day in a schedule, in the service's local time."""

    schedule = models.ForeignKey(Schedule, models.CASCADE, related_name="periods")
    date = models.DateField(_("date"))
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("to"))
    # Regulation 003 Appendix 1 («График плановых дистанционных консультаций специалистов»):
    # the planned consultation's topic and target group, published with the schedule.
    topic = models.CharField(_("topic of the consultation"), max_length=300, blank=True)
    target_group = models.CharField(_("target group"), max_length=300, blank=True)

    class Meta:
        ordering = ["date", "start_time"]
        verbose_name = _("working period")
        verbose_name_plural = _("working periods")
        constraints = [
            models.CheckConstraint(
                condition=Q(start_time__lt=F("end_time")), name="period_start_before_end"
            ),
            models.UniqueConstraint(
                fields=["schedule", "date", "start_time"], name="period_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class Slot(models.Model):
    """A bookable time of one consultant, materialised from an approved schedule."""

    service = models.ForeignKey("core.Service", models.PROTECT, related_name="slots")
    consultant = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="slots")
    # Empty for an ad-hoc slot: immediate help or a written consultation taken up now (never
    # offered: such a slot is created closed and booked at once).
    schedule = models.ForeignKey(
        Schedule, models.CASCADE, null=True, blank=True, related_name="slots"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # The form the slot is offered in; an in-person slot names its room (checked by the database).
    form = models.CharField(
        _("form"), max_length=16, choices=ConsultationForm.choices, default=ConsultationForm.VIDEO
    )
    place = models.ForeignKey(
        Place, models.PROTECT, null=True, blank=True, related_name="slots", verbose_name=_("place")
    )
    # A slot withdrawn (schedule changed, day became a holiday) stays for history but is not offered.
    is_open = models.BooleanField(default=True)
    # Kept in step with the active booking under the slot's row lock, so that "nearest free" can skip
    # fully booked stretches through an index; the partial unique index on Booking stays the arbiter.
    is_booked = models.BooleanField(default=False)

    class Meta:
        ordering = ["starts_at", "consultant_id"]
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        constraints = [
            models.UniqueConstraint(
                fields=["consultant", "starts_at"], name="slot_consultant_start"
            ),
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="slot_start_before_end"
            ),
            models.CheckConstraint(
                condition=~Q(form="in_person") | Q(place__isnull=False),
                name="slot_in_person_has_place",
            ),
        ]
        indexes = [
            models.Index(
                fields=["service", "starts_at"], condition=Q(is_open=True), name="slot_open_by_time"
            ),
            models.Index(
                fields=["service", "starts_at"],
                condition=Q(is_open=True, is_booked=False),
                name="slot_free_by_time",
            ),
            # The dashboards' consultations and topics of a day (today's live count): every slot
            # of a service by time, booked and withdrawn ones included.
            models.Index(fields=["service", "starts_at"], name="slot_service_by_time"),
        ]

    def __str__(self) -> str:
        return f"slot#{self.pk} {self.starts_at:%Y-%m-%d %H:%M}"


class Booking(models.Model):
    """A request's hold on a slot. At most one active booking per slot and per request (database)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RESCHEDULED = "rescheduled", _("Rescheduled")
        CANCELLED = "cancelled", _("Cancelled")

    slot = models.ForeignKey(Slot, models.PROTECT, related_name="bookings")
    request = models.ForeignKey("intake.ServiceRequest", models.PROTECT, related_name="bookings")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Rescheduling ends this booking and points to the one that replaced it: the history is a chain.
    replaced_by = models.OneToOneField(
        "self", models.PROTECT, null=True, blank=True, related_name="replaces"
    )
    cancel_reason = EncryptedCharField(max_length=300, blank=True)
    # An in-person booking holds its room for the slot's time: copied from the slot so that the
    # database refuses two active bookings of one room starting together; overlaps of different
    # start times are refused under the place's row lock (`services.bookings`).
    place = models.ForeignKey(
        Place, models.PROTECT, null=True, blank=True, related_name="bookings", editable=False
    )
    starts_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A visiting consultation: where the consultant goes (the family's home, a school, an event).
    visit_address = EncryptedCharField(_("visit address"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        constraints = [
            models.UniqueConstraint(
                fields=["slot"], condition=Q(status="active"), name="booking_one_active_per_slot"
            ),
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status="active"),
                name="booking_one_active_per_request",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "rescheduled", "cancelled"]),
                name="booking_status_valid",
            ),
            models.UniqueConstraint(
                fields=["place", "starts_at"],
                condition=Q(status="active", place__isnull=False),
                name="booking_one_active_per_place_start",
            ),
        ]

    def __str__(self) -> str:
        return f"booking#{self.pk}"


class HandoffRun(models.Model):
    """The day's requests sent to the provider (regulation 000 §12: daily, 17:45–18:00). One per day."""

    service = models.ForeignKey("core.Service", models.PROTECT, related_name="handoffs")
    date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list)
    request_count = models.PositiveIntegerField(default=0)
    # The run takes every request not yet handed over that was registered before this moment (the
    # operators' 17:00 close of regulation 000 §11, or the time of an earlier manual send).
    cutoff = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # The stored e-mail (with the XLSX) that carries the day to the provider: `sent_at` is when
    # it was handed to the outbox; its own status says whether SMTP has taken it yet.
    notification = models.ForeignKey(
        "notifications.Notification",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-date"]
        verbose_name = _("daily hand-off")
        verbose_name_plural = _("daily hand-offs")
        constraints = [
            models.UniqueConstraint(fields=["service", "date"], name="handoff_one_per_day")
        ]

    def __str__(self) -> str:
        return f"handoff {self.date}"


class HandoffItem(models.Model):
    """A request in a hand-off. Unique per request: every request is handed over exactly once."""

    run = models.ForeignKey(HandoffRun, models.CASCADE, related_name="items")
    request = models.OneToOneField(
        "intake.ServiceRequest", models.PROTECT, related_name="handoff_item"
    )

    class Meta:
        verbose_name = _("handed-over request")
        verbose_name_plural = _("handed-over requests")

    def __str__(self) -> str:
        return f"handoff item {self.run_id}/{self.request_id}"
