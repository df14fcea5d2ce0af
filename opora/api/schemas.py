"""Request and response bodies of `/api/v1/`. Datetimes go out in the service's local time zone."""

import datetime as dt
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import field_validator
from pydantic_core import PydanticCustomError

from opora.accounts.models import User
from opora.consultations.models import Consultation
from opora.consultations.selectors import client_join_url, room_url
from opora.consultations.services import consultation_for_booking
from opora.core.inputs import MAX_DATE, MAX_YEAR, MIN_DATE, MIN_YEAR, has_control_chars
from opora.intake.models import Channel, ServiceRequest
from opora.scheduling.models import Booking, Slot


def _local(value: dt.datetime | None, service: object) -> dt.datetime | None:
    """`value` in the service's time zone, so "+05:00" reads as the 1411 operator's clock."""
    if value is None:
        return None
    local = value.astimezone(service.tz)  # type: ignore[attr-defined]
    offset = local.utcoffset()
    if offset is not None and offset.seconds % 60:
        # Local mean time before the zone's standard time (Almaty before 1924: +05:07:48) has
        # seconds in its offset, which RFC 3339 cannot write: give such a value in UTC.
        return value.astimezone(dt.UTC)
    return local


def _consultation(booking: Booking) -> Consultation | None:
    """The room of an active booking (created on first read, idempotent); none for ended ones."""
    if booking.status != Booking.Status.ACTIVE:
        return None
    cached = getattr(booking, "_opora_consultation", None)
    if cached is None:
        cached = consultation_for_booking(booking=booking)
        booking._opora_consultation = cached  # type: ignore[attr-defined]
    return cached


# Fields whose text may span lines (tab, line feed and carriage return allowed).
MULTILINE_FIELDS = frozenset({"reason"})


class InputSchema(Schema):
    """A request body: no string field holds a control character (a NUL is refused by PostgreSQL,
    the others break exports), so such input is a 422 naming the field, never a 500."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any, info: Any) -> Any:
        if isinstance(value, str) and has_control_chars(
            value, multiline=info.field_name in MULTILINE_FIELDS
        ):
            raise PydanticCustomError(
                "control_character",
                str(_("Contains a control character (such as a NUL), which is not allowed.")),
            )
        return value


def check_api_datetime(value: dt.datetime | None) -> dt.datetime | None:
    """A datetime from outside: years 1900-2100 and a whole-minute UTC offset (RFC 3339)."""
    if value is None:
        return None
    offset = value.utcoffset()
    if offset is not None and (offset.seconds % 60 or offset.microseconds):
        raise PydanticCustomError(
            "offset_seconds",
            str(_("The time zone offset must be whole minutes, such as +05:00.")),
        )
    if not MIN_DATE <= value.date() <= MAX_DATE:
        raise PydanticCustomError(
            "date_out_of_range",
            str(_("Enter a date between the years %(min)s and %(max)s."))
            % {"min": MIN_YEAR, "max": MAX_YEAR},
        )
    return value


class ErrorOut(Schema):
    detail: str
    code: str | None = None


class FieldErrorOut(Schema):
    field: str
    message: str


class ValidationErrorOut(Schema):
    """422: the request was understood but a field is wrong; `errors` names each field."""

    detail: str
    code: str
    errors: list[FieldErrorOut]


class InvalidOut(Schema):
    """400: the request cannot be carried out as sent; `errors` when a model rule named fields."""

    detail: str
    code: str | None = None
    errors: list[FieldErrorOut] | None = None


# --- Eligibility ----------------------------------------------------------------------------------


class EligibilityIn(InputSchema):
    iin: str = Field(..., max_length=64, description="The caller's IIN (12 digits).")
    full_name: str = Field(..., min_length=1, max_length=400, description="As the caller says it.")
    service: str | None = Field(
        None,
        max_length=50,
        description="Service code; default: the only active service that checks eligibility.",
    )


class EligibilityOut(Schema):
    eligible: bool
    reason: str = Field(..., description="EligibilityCheck reason code, e.g. eligible_cbd.")
    message: str = Field(..., description="The scripted answer to read to the caller.")
    check_id: int


# --- Slots ----------------------------------------------------------------------------------------


class ConsultantOut(Schema):
    id: int
    name: str

    @staticmethod
    def resolve_name(obj: User) -> str:
        return obj.display_name


class SlotOut(Schema):
    id: int
    consultant: ConsultantOut
    starts_at: dt.datetime
    ends_at: dt.datetime

    @staticmethod
    def resolve_starts_at(obj: Slot) -> dt.datetime | None:
        return _local(obj.starts_at, obj.service)

    @staticmethod
    def resolve_ends_at(obj: Slot) -> dt.datetime | None:
        return _local(obj.ends_at, obj.service)


class SlotListOut(Schema):
    items: list[SlotOut]


# --- Requests -------------------------------------------------------------------------------------


class RequestIn(InputSchema):
    service: str = Field(..., max_length=50, description="Service code, e.g. kz-1411.")
    full_name: str = Field(..., min_length=1, max_length=400)
    iin: str = Field("", max_length=64)
    phone: str = Field("", max_length=64)
    phone_extra: str = Field("", max_length=64)
    email: str = Field("", max_length=254)
    region: str | None = Field(None, max_length=16, description="Region code, e.g. KZ-75.")
    reason: str = Field("", max_length=10000)
    desired_at: dt.datetime | None = Field(
        None, description="ISO 8601; without an offset it is read in the service's time zone."
    )
    channel: Channel = Channel.PHONE
    eligibility_check: int | None = Field(
        None, description="check_id of a positive check just made for this IIN and name."
    )

    @field_validator("desired_at", mode="after")
    @classmethod
    def _sane_desired_at(cls, value: dt.datetime | None) -> dt.datetime | None:
        return check_api_datetime(value)


class RequestOut(Schema):
    id: int
    status: str
    service: str
    full_name: str
    iin: str
    phone: str
    phone_extra: str
    email: str
    region: str | None
    reason: str
    channel: str
    desired_at: dt.datetime | None
    created_at: dt.datetime
    refusal_ground: str
    eligibility_check: int | None

    @staticmethod
    def resolve_service(obj: ServiceRequest) -> str:
        return obj.service.code

    @staticmethod
    def resolve_region(obj: ServiceRequest) -> str | None:
        return obj.region.code if obj.region is not None else None

    @staticmethod
    def resolve_desired_at(obj: ServiceRequest) -> dt.datetime | None:
        return _local(obj.desired_at, obj.service)

    @staticmethod
    def resolve_created_at(obj: ServiceRequest) -> dt.datetime | None:
        return _local(obj.created_at, obj.service)

    @staticmethod
    def resolve_eligibility_check(obj: ServiceRequest) -> int | None:
        return obj.eligibility_check_id


# --- Bookings -------------------------------------------------------------------------------------


class BookingIn(InputSchema):
    request: int
    slot: int


class RescheduleIn(InputSchema):
    slot: int


class CancelIn(InputSchema):
    reason: str = Field("", max_length=300)


class BookingOut(Schema):
    id: int
    status: str
    request: int
    slot: SlotOut
    starts_at: dt.datetime
    ends_at: dt.datetime
    consultant: ConsultantOut
    replaces: int | None = Field(None, description="The booking this one replaced (rescheduling).")
    replaced_by: int | None = None
    cancel_reason: str
    created_at: dt.datetime
    client_join_url: str | None = Field(
        None, description="The client's personal link to the consultation (active bookings)."
    )
    room_url: str | None = Field(
        None, description="The room page the booked consultant opens (active bookings)."
    )

    @staticmethod
    def resolve_client_join_url(obj: Booking) -> str | None:
        consultation = _consultation(obj)
        return client_join_url(consultation) if consultation else None

    @staticmethod
    def resolve_room_url(obj: Booking) -> str | None:
        consultation = _consultation(obj)
        return room_url(consultation) if consultation else None

    @staticmethod
    def resolve_request(obj: Booking) -> int:
        return obj.request_id

    @staticmethod
    def resolve_starts_at(obj: Booking) -> dt.datetime | None:
        return _local(obj.slot.starts_at, obj.slot.service)

    @staticmethod
    def resolve_ends_at(obj: Booking) -> dt.datetime | None:
        return _local(obj.slot.ends_at, obj.slot.service)

    @staticmethod
    def resolve_consultant(obj: Booking) -> User:
        return obj.slot.consultant

    @staticmethod
    def resolve_replaces(obj: Booking) -> int | None:
        try:
            return obj.replaces.pk
        except ObjectDoesNotExist:
            return None

    @staticmethod
    def resolve_replaced_by(obj: Booking) -> int | None:
        return obj.replaced_by_id

    @staticmethod
    def resolve_created_at(obj: Booking) -> dt.datetime | None:
        return _local(obj.created_at, obj.slot.service)
