"""Reads of consultations: who may enter a room, whether a join link works now, the chat, ICE servers."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.accounts import policy as access_policy
from opora.accounts.actors import Actor, User
from opora.accounts.policy import Action
from opora.consultations.models import ChatMessage, Consultation, Recording
from opora.core.audit import AuditEventType
from opora.core.links import public_url
from opora.intake import topics as intake_topics
from opora.intake.consents import consent_withdrawn
from opora.intake.models import ConsentKind
from opora.scheduling.models import Booking

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from opora.consultations.models import Protocol, TechnicalFailure
    from opora.core.models import Service
    from opora.intake.models import ServiceRequest
    from opora.scheduling.models import Slot

# The client may open the room this long before the slot starts (regulation 002 §4.2: the
# consultant prepares 30 minutes ahead; the client needs a few minutes for the device check).
JOIN_EARLY = dt.timedelta(minutes=15)
TURN_TTL_SECONDS = 12 * 3600


class LinkProblem:
    NOT_FOUND = "not_found"
    EARLY = "early"
    EXPIRED = "expired"
    CLOSED = "closed"


def consultation_by_token(token: str) -> Consultation | None:
    """The consultation whose client link carries `token`, or None."""
    if not token or len(token) > 64:
        return None
    return (
        Consultation.objects.select_related(
            "booking__slot__service", "booking__slot__consultant", "booking__request"
        )
        .filter(client_token=token)
        .first()
    )


def consultation_by_id(consultation_id: int) -> Consultation | None:
    return (
        Consultation.objects.select_related(
            "booking__slot__service", "booking__slot__consultant", "booking__request"
        )
        .filter(pk=consultation_id)
        .first()
    )


def link_problem(
    consultation: Consultation | None, *, now: dt.datetime | None = None
) -> str | None:
    """Why the client's link does not open the room at `now` (a `LinkProblem`), or None if it does."""
    if consultation is None:
        return LinkProblem.NOT_FOUND
    now = now or timezone.now()
    slot = consultation.booking.slot
    if consultation.booking.status != Booking.Status.ACTIVE or consultation.status in (
        Consultation.Status.ENDED,
        Consultation.Status.NO_SHOW,
        Consultation.Status.FAILED,
    ):
        return LinkProblem.CLOSED
    if now >= slot.ends_at:
        return LinkProblem.EXPIRED
    if now < slot.starts_at - JOIN_EARLY:
        return LinkProblem.EARLY
    return None


def consultant_may_enter(user: Actor | AnonymousUser, consultation: Consultation) -> bool:
    """Only the booked consultant enters the consultant's side of the room (the policy's
    `consultation.conduct` on the consultation: their own, of a service they work for)."""
    return access_policy.can(user, Action.CONSULTATION_CONDUCT, consultation)


def chat_history(consultation_id: int) -> list[dict[str, Any]]:
    """The whole chat in order, as the room's JavaScript shows it."""
    return [
        chat_message_payload(m)
        for m in ChatMessage.objects.filter(consultation_id=consultation_id)
        .select_related("attachment")
        .order_by("seq")
    ]


def chat_message_payload(message: ChatMessage) -> dict[str, Any]:
    """A chat line as sent to both sides; a file carries its name, size and type (each side
    builds its own download link from `seq`: the client's by token, the consultant's by login)."""
    payload = {
        "seq": message.seq,
        "sender": message.sender,
        "text": message.text,
        "client_msg_id": message.client_msg_id,
        "at": message.created_at.isoformat(),
    }
    attachment = getattr(message, "attachment", None) if message.pk else None
    if attachment is not None:
        payload["file"] = {
            "name": attachment.name,
            "size": attachment.size,
            "type": attachment.content_type,
        }
    return payload


def chat_files(consultation: Consultation) -> list[ChatMessage]:
    """The files sent in the consultation's chat, in chat order (the protocol's materials)."""
    return list(
        ChatMessage.objects.filter(consultation=consultation, attachment__isnull=False)
        .select_related("attachment")
        .order_by("seq")
    )


# --- Recording -----------------------------------------------------------------------------------

# Chunks still accepted this long after the consultation ended: the recorder's last piece and any
# upload retries arrive after the "end" message.
RECORDING_GRACE = dt.timedelta(minutes=5)


def recording_refusal(
    consultation: Consultation, *, now: dt.datetime | None = None, policy_only: bool = False
) -> str | None:
    """Why the consultation may not be recorded now (a sentence for the consultant), or None.

    The service's policy decides: "never" — never; "consent" (Russian services, regulation 004:
    no recording without written consent) — only after the client said yes on the entry page;
    "notice" (1411) — only after the client was shown the notice. The consultant, who starts the
    recording, is the other person in the room. Chunks are checked against this one by one.
    `policy_only` leaves out the consultation's status (the room decides before the admit).
    """
    from opora.core.models import Service

    policy = consultation.booking.slot.service.recording_policy
    if policy == Service.RecordingPolicy.NEVER:
        return _("This service does not record consultations.")
    request_id = consultation.booking.request_id
    if request_id is not None and consent_withdrawn(
        request_id=request_id, kind=ConsentKind.RECORDING
    ):
        return _("The client withdrew the consent to recording: it is not recorded.")
    if policy == Service.RecordingPolicy.CONSENT and consultation.recording_consent is not True:
        if consultation.recording_consent is False:
            return _("The client declined recording: the consultation is held without it.")
        return _("The client has not given written consent to recording.")
    if policy == Service.RecordingPolicy.NOTICE and consultation.recording_notice_at is None:
        return _("The client has not yet been shown the recording notice.")
    if policy_only or consultation.status == Consultation.Status.IN_PROGRESS:
        return None
    now = now or timezone.now()
    if (
        consultation.status == Consultation.Status.ENDED
        and consultation.ended_at
        and now - consultation.ended_at <= RECORDING_GRACE
    ):
        return None
    return _("Only a consultation in progress can be recorded.")


def recording_running(consultation: Consultation) -> Recording | None:
    return consultation.recordings.filter(status=Recording.Status.RECORDING).first()


def may_view_recordings(user: Actor | AnonymousUser, service: Service) -> bool:
    """A head of the service or an administrator (the policy's `recording.view`; every read is
    still logged with a reason)."""
    return access_policy.can(user, Action.RECORDING_VIEW, service=service)


def recordings_for_service(*, actor: Actor, service: Service) -> QuerySet[Recording]:
    """The service's recordings, newest first, for a head or an administrator."""
    if not may_view_recordings(actor, service):
        return Recording.objects.none()
    return (
        Recording.objects.filter(consultation__booking__slot__service=service)
        .select_related("consultation__booking__slot__consultant", "started_by")
        .prefetch_related("releases")
        .order_by("-started_at", "-pk")
    )


def recording_get(*, actor: Actor, recording_id: int) -> Recording | None:
    """One recording, or None when it does not exist or `actor` may not see it."""
    recording = (
        Recording.objects.select_related("consultation__booking__slot__service")
        .filter(pk=recording_id)
        .first()
    )
    if recording is None or not may_view_recordings(
        actor, recording.consultation.booking.slot.service
    ):
        return None
    return recording


def client_join_url(consultation: Consultation) -> str:
    path = reverse("consultations:client_entry", args=[consultation.client_token])
    return public_url(path)


def room_url(consultation: Consultation) -> str:
    path = reverse("consultations:consultant_room", args=[consultation.pk])
    return public_url(path)


def turn_credentials(
    *,
    secret: str,
    urls: list[str],
    user_id: str,
    ttl: int = TURN_TTL_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """A TURN server entry with time-limited credentials (coturn `use-auth-secret`, the TURN REST
    scheme): username `<expiry unix time>:<id>`, credential base64(HMAC-SHA1(secret, username))."""
    expiry = int(now if now is not None else time.time()) + ttl
    username = f"{expiry}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return {
        "urls": list(urls),
        "username": username,
        "credential": base64.b64encode(digest).decode(),
    }


def ice_servers(*, user_id: str) -> list[dict[str, Any]]:
    """The RTCPeerConnection `iceServers`: `OPORA_ICE_SERVERS` (STUN) plus TURN when configured."""
    servers = [dict(s) for s in settings.OPORA_ICE_SERVERS]
    secret, urls = settings.OPORA_TURN_SECRET, settings.OPORA_TURN_URLS
    if secret and urls:
        servers.append(
            turn_credentials(
                secret=secret, urls=urls, user_id=user_id, ttl=settings.OPORA_TURN_TTL_SECONDS
            )
        )
    return servers


# --- Heads, protocols, the journal ---------------------------------------------------------------


def service_heads(*, service: Service) -> QuerySet[User]:
    """The active heads of `service` (they handle technical failures and crises)."""
    from opora.accounts.models import Role

    return User.objects.filter(role=Role.HEAD, services=service, is_active=True).order_by("pk")


def _same_client(consultation: Consultation, prefix: str = "") -> Q | None:
    """Consultations of the same client: by the client record, else by the IIN; None if anonymous."""
    request = consultation.booking.request
    if request.client_id:
        return Q(**{f"{prefix}booking__request__client_id": request.client_id})
    if request.iin:
        return Q(**{f"{prefix}booking__request__iin": request.iin})
    return None


def protocol_kind_suggestion(consultation: Consultation) -> str:
    """«повторная» when the same client had an earlier ended consultation, else «первичная»."""
    from opora.consultations.models import Protocol

    same = _same_client(consultation)
    if same is None:
        return Protocol.Kind.PRIMARY
    earlier = (
        Consultation.objects.filter(same, status=Consultation.Status.ENDED)
        .exclude(pk=consultation.pk)
        .filter(booking__slot__starts_at__lt=consultation.booking.slot.starts_at)
    )
    return Protocol.Kind.REPEAT if earlier.exists() else Protocol.Kind.PRIMARY


def earlier_protocols(*, consultation: Consultation, limit: int = 10) -> list[Protocol]:
    """The protocols of this client's earlier consultations in the same service, newest first:
    what the booked consultant may read before and during the consultation."""
    from opora.consultations.models import Protocol

    same = _same_client(consultation, prefix="consultation__")
    if same is None:
        return []
    return list(
        Protocol.objects.filter(
            same, consultation__booking__slot__service_id=consultation.booking.slot.service_id
        )
        .exclude(consultation=consultation)
        .filter(consultation__booking__slot__starts_at__lt=consultation.booking.slot.starts_at)
        .select_related("consultation__booking__slot", "written_by")
        .order_by("-consultation__booking__slot__starts_at")[:limit]
    )


ANONYMOUS = "Анонимно"  # regulation 004: the journal says «Анонимно» when no name was given
# Regulation 002 Appendix 3, «Журнал учета он-лайн консультирования», its column headers verbatim
# (the consultant's name heads the form; in a service-wide journal it is a column).
JOURNAL_COLUMNS = [
    "№",
    "Дата консультации, продолжительность",
    "ФИО специалиста",
    "Ф.И. ребенка",
    "Возраст",
    "Законный представитель Ф.И.О.",
    "Вид консультации (первичная/повторная)",
    "Причина обращения со слов З/П",
    "Тематика консультирования",
    "Примечание",
]


def journal_consultations(
    *,
    actor: Actor,
    service: Service,
    consultant: User | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Consultation]:
    """The journal: consultations held (status ended) of `service`, one per service provided.

    A failed attempt (technical failure) or a no-show is not a consultation held, so a request
    re-provided after a failure counts once (regulation 004). A consultant sees only their own.
    """
    from opora.scheduling.calendar import local_day_bounds

    qs = (
        Consultation.objects.filter(
            status=Consultation.Status.ENDED, booking__slot__service=service
        )
        .select_related("booking__slot__consultant", "booking__request", "protocol")
        .order_by("booking__slot__starts_at", "pk")
    )
    if isinstance(actor, User) and access_policy.own_only(actor, Action.JOURNAL_VIEW):
        qs = qs.filter(booking__slot__consultant=actor)
    elif consultant is not None:
        qs = qs.filter(booking__slot__consultant=consultant)
    if date_from is not None:
        qs = qs.filter(booking__slot__starts_at__gte=local_day_bounds(service, date_from)[0])
    if date_to is not None:
        qs = qs.filter(booking__slot__starts_at__lt=local_day_bounds(service, date_to)[1])
    return qs


def journal_row(number: int, consultation: Consultation) -> list[int | str]:
    """One journal row in the order of JOURNAL_COLUMNS (strings and numbers only)."""
    from opora.consultations.models import FORM_IN_JOURNAL, Protocol

    service = consultation.booking.slot.service
    request = consultation.booking.request
    started = consultation.started_at or consultation.booking.slot.starts_at
    local = timezone.localtime(started, service.tz)
    try:
        protocol = consultation.protocol
    except Protocol.DoesNotExist:
        protocol = None
    minutes: int | str = ""
    if protocol is not None and protocol.duration_minutes:
        minutes = protocol.duration_minutes  # held without the room's clock (issue 12)
    elif consultation.started_at and consultation.ended_at:
        minutes = round((consultation.ended_at - consultation.started_at).total_seconds() / 60)
    when = f"{local:%d.%m.%Y %H:%M}" + (f", {minutes} мин" if minutes != "" else "")
    if consultation.form in FORM_IN_JOURNAL:
        when += f", {FORM_IN_JOURNAL[consultation.form]}"
    name = ANONYMOUS if request.is_anonymous else ((request.full_name or "").strip() or ANONYMOUS)
    return [
        number,
        when,
        consultation.booking.slot.consultant.display_name,
        protocol.child_name if protocol else "",
        protocol.child_age if protocol and protocol.child_age is not None else "",
        name,
        str(protocol.get_kind_display()) if protocol else "",
        protocol.reason if protocol else request.reason,
        str(protocol.get_topic_display()) if protocol else "",
        _journal_note(consultation, protocol.note if protocol else ""),
    ]


# Regulation 004: a service provided again after a technical failure is counted once.
REPROVISION_NOTE = "Повторное предоставление после технического сбоя"


def _journal_note(consultation: Consultation, note: str) -> str:
    if consultation.reprovision_of_id is None:
        return note
    return f"{REPROVISION_NOTE}. {note}" if note else REPROVISION_NOTE


# --- What the room shows about the request ------------------------------------------------------


def request_topic(request: ServiceRequest) -> str:
    """The request's topic as people read it: the reason in the client's words, else (the reason
    may be blank) the label of the typical question chosen on the portal, else ""."""
    return intake_topics.request_topic(request).text


def room_request_summary(*, actor: Actor, consultation: Consultation) -> dict[str, Any]:
    """What the booked consultant reads beside the video: the request (topic, reason, child's age,
    who asks, channel, wanted form) and the client's earlier protocols in this service.

    Personal data: only the booked consultant gets it, and the read is audited here
    (`consultation.room_opened`, with the number of earlier protocols shown, never their text).
    """
    if not consultant_may_enter(actor, consultation):
        raise PermissionError("only the booked consultant reads the request in the room")
    request = consultation.booking.request
    protocols = earlier_protocols(consultation=consultation)
    from opora.core.audit import audit_record

    audit_record(
        actor=actor,
        event_type=AuditEventType.CONSULTATION_ROOM_OPENED,
        subject=consultation,
        extra={"earlier_protocols": len(protocols)},
    )
    return {
        "name": request.full_name,
        "is_anonymous": request.is_anonymous,
        "typical_question": (
            str(request.get_typical_question_display()) if request.typical_question else ""
        ),
        "reason": (request.reason or "").strip(),
        "child_age": request.child_age,
        "requester_kind": (
            str(request.get_requester_kind_display()) if request.requester_kind else ""
        ),
        "channel": str(request.get_channel_display()),
        "preferred_form": (
            str(request.get_preferred_form_display()) if request.preferred_form else ""
        ),
        "earlier_protocols": protocols,
    }


# --- Technical failures and the re-provision --------------------------------------------------


def failures_for_service(
    *, service: Service, open_only: bool = False, limit: int = 50
) -> list[TechnicalFailure]:
    """The technical failures of `service`, those waiting for the head first, then the newest."""
    from django.db.models import Case, IntegerField, Value, When

    from opora.consultations.models import TechnicalFailure

    qs = (
        TechnicalFailure.objects.filter(consultation__booking__slot__service=service)
        .select_related(
            "consultation__booking__slot__consultant",
            "consultation__booking__request",
            "reported_by",
            "decided_by",
            "rebooked__slot__consultant",
        )
        .annotate(
            waiting=Case(
                When(state="reported", then=Value(0)),
                When(state="accepted", then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("waiting", "-reported_at", "-pk")
    )
    if open_only:
        qs = qs.filter(state__in=TechnicalFailure.OPEN_STATES)
    return list(qs[:limit])


def failures_to_pick(*, consultant: User) -> list[TechnicalFailure]:
    """Accepted failures of `consultant`'s consultations whose new time they pick."""
    from opora.consultations.models import TechnicalFailure

    return list(
        TechnicalFailure.objects.filter(
            state=TechnicalFailure.State.ACCEPTED,
            consultation__booking__slot__consultant=consultant,
        ).select_related("consultation__booking__slot__service")
    )


def reprovision_slots(
    *, service: Service, consultant: User | None = None, days: int = 14, limit: int = 12
) -> list[Slot]:
    """Free bookable slots for the new time of a failed consultation, nearest first: of
    `consultant` when given, else of anyone in the service."""
    from opora.scheduling.calendar import to_local
    from opora.scheduling.selectors import slot_nearest_free, slots_free_on_date

    nearest = slot_nearest_free(service=service, consultant=consultant)
    if nearest is None:
        return []
    found: list[Slot] = []
    day = to_local(service, nearest.starts_at).date()
    for offset in range(days):
        found.extend(
            slots_free_on_date(
                service=service, date=day + dt.timedelta(days=offset), consultant=consultant
            )
        )
        if len(found) >= limit:
            break
    return found[:limit]
