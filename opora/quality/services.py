"""Writes of the quality evaluation: open one per service, invite and remind once, keep the draft,
store the submission once, alert the heads of a low score.

Nothing below this app knows it exists: the periodic sweep (`evaluations_sweep`, beat entry
"quality-sweep") finds the services that were given — a request done, or its consultation held
while the protocol is still to be written — and opens their evaluations.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opora.consultations.models import Consultation, Protocol
from opora.consultations.selectors import service_heads
from opora.core.audit import AuditEventType, audit_record
from opora.core.dates import human_date
from opora.core.errors import DomainError
from opora.core.links import public_url
from opora.core.models import Service
from opora.intake.models import Channel, ServiceForm, ServiceRequest
from opora.notifications.services import (
    notification_create,
    notification_send_to_client,
    shortlink_for,
    shortlink_url,
)
from opora.notifications.sms import sms_fit
from opora.quality import hooks, locks
from opora.quality.models import CRITERIA, SCALE, Evaluation, MoreOf
from opora.quality.selectors import quality_settings_for
from opora.quality.texts import MORE_OF_QUESTION

logger = logging.getLogger(__name__)

# Regulation 004: "непосредственно после ее оказания, но не позднее трех календарных дней".
WINDOW_DAYS = 3
# One reminder when the first notice is this old and still unanswered.
REMIND_AFTER = dt.timedelta(hours=48)
# A service older than the window is not looked for (nor are the ones before this app existed).
LOOKBACK = dt.timedelta(days=WINDOW_DAYS + 2)
# The short link outlives the window, so that a late tap reaches "the window has closed" (with
# the service's contacts) rather than "not found".
LINK_GRACE = dt.timedelta(days=30)
KIND_INVITE = "quality_invite"
# "reminder…": a messenger conversation with reminders turned off gets none (messengers/notify.py).
KIND_REMINDER = "reminder_quality"
KIND_LOW_SCORE = "quality_low_score"
TEXT_MAX = 2000


class WindowClosed(DomainError):
    code = "evaluation_closed"
    http_status = 410


class AlreadySubmitted(DomainError):
    code = "evaluation_submitted"
    http_status = 409


def window_closes_at(*, service: Service, served_at: dt.datetime) -> dt.datetime:
    """The end of the third calendar day after the day of the service, in the service's zone."""
    tz = service.tz
    day = served_at.astimezone(tz).date() + dt.timedelta(days=WINDOW_DAYS + 1)
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


def evaluation_path(evaluation: Evaluation) -> str:
    return reverse("quality:evaluation", args=[evaluation.token])


# --- which services were given ------------------------------------------------------------------


def _held_consultation(request: ServiceRequest) -> Consultation | None:
    return (
        Consultation.objects.filter(booking__request=request, status=Consultation.Status.ENDED)
        .select_related("booking__slot")
        .order_by("-ended_at", "-pk")
        .first()
    )


def service_given(request: ServiceRequest) -> tuple[Consultation | None, dt.datetime | None]:
    """(the consultation held, when the service was given) — (None, None) when it was not: the
    request is done, or booked with its consultation ended (the protocol still to come)."""
    if request.status not in (ServiceRequest.Status.DONE, ServiceRequest.Status.BOOKED):
        return None, None
    consultation = _held_consultation(request)
    if consultation is not None and consultation.ended_at is not None:
        return consultation, consultation.ended_at
    if request.status == ServiceRequest.Status.DONE:
        # Done without a room (a written answer, a phone consultation): when it was closed.
        return None, request.updated_at
    return None, None


def _form_of(request: ServiceRequest, consultation: Consultation | None) -> str:
    if consultation is not None:
        return consultation.mode
    if request.channel == Channel.EMAIL:
        return ServiceForm.WRITTEN
    return request.preferred_form


def _topic_of(request: ServiceRequest, consultation: Consultation | None) -> str:
    protocol: Protocol | None = (
        getattr(consultation, "protocol", None) if consultation is not None else None
    )
    if protocol is not None:
        return protocol.topic
    return ""


@transaction.atomic
def evaluation_open(
    *, request: ServiceRequest, now: dt.datetime | None = None
) -> Evaluation | None:
    """The evaluation of `request`'s service, opened now if the service was given and its window
    is still open; None otherwise. One per service: a second call, or a concurrent one (the
    database's unique index decides), returns the first."""
    existing = Evaluation.objects.filter(request=request).first()
    if existing is not None:
        return existing
    now = now or timezone.now()
    consultation, served_at = service_given(request)
    if served_at is None:
        return None
    service = request.service
    closes_at = window_closes_at(service=service, served_at=served_at)
    if closes_at <= now:
        return None
    consultant_id = (
        consultation.booking.slot.consultant_id
        if consultation is not None
        else request.assigned_to_id
    )
    evaluation = Evaluation(
        request=request,
        consultation=consultation,
        service=service,
        consultant_id=consultant_id,
        form=_form_of(request, consultation),
        channel=request.channel,
        topic=_topic_of(request, consultation),
        served_at=served_at,
        closes_at=closes_at,
    )
    evaluation.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            evaluation.save(force_insert=True)
    except IntegrityError:
        return Evaluation.objects.get(request=request)
    return evaluation


# --- the notices ---------------------------------------------------------------------------------


def _link(evaluation: Evaluation) -> str:
    link = shortlink_for(
        target_type=Evaluation._meta.label_lower,
        target_id=str(evaluation.pk),
        path=evaluation_path(evaluation),
        expires_at=evaluation.closes_at + LINK_GRACE,
    )
    return shortlink_url(link)


class _Notice(TypedDict):
    subject: str
    body: str
    sms_body: str
    html_body: str
    action_url: str
    action_label: str


def _notice(evaluation: Evaluation, *, reminder: bool, link: str) -> _Notice:
    service = evaluation.service
    until = human_date(
        timezone.localtime(evaluation.closes_at - dt.timedelta(seconds=1), service.tz)
    )
    served = human_date(timezone.localtime(evaluation.served_at, service.tz))
    subject = (
        _("Reminder: please rate the consultation")
        if reminder
        else _("Please rate the consultation")
    )
    lead = _(
        "Please rate the consultation of %(served)s: seven short questions, about two minutes. "
        "The questionnaire is open until %(until)s inclusive."
    ) % {"served": served, "until": until}
    label = _("Rate the consultation")
    after = [_("Your answers are not shown to your consultant.")]
    text = "\n".join([service.display_name, lead, link, *after])
    sms = sms_fit(
        [
            _("%(service)s: please rate the consultation by %(until)s: %(link)s")
            % {"service": service.display_name, "until": until, "link": link},
            _("Please rate the consultation by %(until)s: %(link)s")
            % {"until": until, "link": link},
            link,
        ]
    )
    html = render_to_string(
        "notifications/email_notice.html",
        {
            "title": service.display_name,
            "lead": lead,
            "link": link,
            "link_label": label,
            "link_line": link,
            "after": after,
        },
    )
    return {
        "subject": subject,
        "body": text,
        "sms_body": sms,
        "html_body": html,
        "action_url": link,
        "action_label": label,
    }


def _send(evaluation: Evaluation, *, kind: str) -> int:
    request = evaluation.request
    with translation.override(settings.LANGUAGE_CODE):
        notice = _notice(evaluation, reminder=kind == KIND_REMINDER, link=_link(evaluation))
        sent = notification_send_to_client(
            kind=kind,
            about=evaluation,
            phone=request.phone,
            email=request.email,
            dedupe_prefix=kind,
            contact_hint={"request_id": request.pk, "client_id": request.client_id},
            **notice,
        )
    return len(sent)


@transaction.atomic
def evaluation_invite(*, evaluation: Evaluation, now: dt.datetime | None = None) -> int:
    """Send the link to the client's phone, e-mail and messengers, once; returns how many
    messages were stored (0 for an anonymous requester without a contact: nothing is sent)."""
    now = now or timezone.now()
    locked = (
        locks.evaluation_qs_select_for_update()
        .select_related("request", "service")
        .get(pk=evaluation.pk)
    )
    if locked.invited_at is not None or locked.submitted_at is not None or locked.closes_at <= now:
        return 0
    count = _send(locked, kind=KIND_INVITE)
    # A chat that can hold the questionnaire itself (the Telegram bot's buttons) gets it there.
    count += hooks.invite_listeners_run(locked, reminder=False)
    locked.invited_at = now
    locked.invite_channels = count
    locked.save(update_fields=["invited_at", "invite_channels"])
    return count


@transaction.atomic
def evaluation_remind(*, evaluation: Evaluation, now: dt.datetime | None = None) -> int:
    """The one reminder of an unanswered evaluation; returns how many messages were stored."""
    now = now or timezone.now()
    locked = (
        locks.evaluation_qs_select_for_update()
        .select_related("request", "service")
        .get(pk=evaluation.pk)
    )
    if (
        locked.reminder_sent_at is not None
        or locked.submitted_at is not None
        or not locked.invite_channels
        or locked.invited_at is None
        or locked.invited_at > now - REMIND_AFTER
        or locked.closes_at <= now
    ):
        return 0
    count = _send(locked, kind=KIND_REMINDER)
    count += hooks.invite_listeners_run(locked, reminder=True)
    locked.reminder_sent_at = now
    locked.save(update_fields=["reminder_sent_at"])
    return count


def evaluations_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic sweep: open an evaluation for every service given lately that has none, send
    each its invitation once, and the one reminder after ~48 hours. Idempotent."""
    now = now or timezone.now()
    since = now - LOOKBACK
    request_ids = set(
        Consultation.objects.filter(
            status=Consultation.Status.ENDED,
            ended_at__gte=since,
            booking__request__status__in=[
                ServiceRequest.Status.BOOKED,
                ServiceRequest.Status.DONE,
            ],
            booking__request__evaluation__isnull=True,
        ).values_list("booking__request_id", flat=True)
    )
    request_ids |= set(
        ServiceRequest.objects.filter(
            status=ServiceRequest.Status.DONE, updated_at__gte=since, evaluation__isnull=True
        ).values_list("pk", flat=True)
    )
    opened = 0
    for request in ServiceRequest.objects.filter(pk__in=request_ids).select_related("service"):
        if evaluation_open(request=request, now=now) is not None:
            opened += 1
    invited = 0
    for evaluation in Evaluation.objects.filter(
        invited_at__isnull=True, submitted_at__isnull=True, closes_at__gt=now
    ).order_by("pk"):
        invited += evaluation_invite(evaluation=evaluation, now=now)
    reminded = 0
    for evaluation in Evaluation.objects.filter(
        submitted_at__isnull=True,
        reminder_sent_at__isnull=True,
        invite_channels__gt=0,
        invited_at__lte=now - REMIND_AFTER,
        closes_at__gt=now,
    ).order_by("pk"):
        reminded += evaluation_remind(evaluation=evaluation, now=now)
    # The topic is written in the protocol, often after the evaluation opened.
    for evaluation in Evaluation.objects.filter(
        topic="", consultation__protocol__isnull=False, served_at__gte=since
    ).select_related("consultation__protocol"):
        assert evaluation.consultation is not None  # the filter's join
        Evaluation.objects.filter(pk=evaluation.pk).update(
            topic=evaluation.consultation.protocol.topic
        )
    if opened or invited or reminded:
        logger.info(
            "quality sweep: opened %d, messages %d, reminders %d", opened, invited, reminded
        )
    return {"opened": opened, "messages": invited, "reminder_messages": reminded}


# --- the answers -----------------------------------------------------------------------------------

SCORE_ERROR = gettext_lazy("“%(item)s”: choose a score from 1 to 5.")


def clean_answers(data: Mapping[str, Any], *, complete: bool) -> dict[str, Any]:
    """The answers in `data` (form values), checked: each score 1–5, the choice one of the
    regulation's three, texts at most 2,000 characters. Only the items present are returned (a
    draft keeps what it had for the others); `complete`: all seven scores are needed.
    `ValidationError` names each item that is wrong."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, label in CRITERIA:
        raw = str(data.get(name) or "").strip()
        if raw == "":
            if complete:
                errors[name] = str(SCORE_ERROR % {"item": label})
            elif name in data:
                cleaned[name] = None
            continue
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value not in SCALE:
            errors[name] = str(SCORE_ERROR % {"item": label})
        else:
            cleaned[name] = value
    if "more_of" in data:
        more_of = str(data.get("more_of") or "").strip()
        if more_of and more_of not in MoreOf.values:
            errors["more_of"] = _("“%(item)s”: choose one of the answers.") % {
                "item": MORE_OF_QUESTION
            }
        else:
            cleaned["more_of"] = more_of
    for name in ("impressions", "wishes"):
        if name not in data:
            continue
        text = str(data.get(name) or "").strip()
        if len(text) > TEXT_MAX:
            errors[name] = _("The answer is longer than %(max)d characters.") % {"max": TEXT_MAX}
        else:
            cleaned[name] = text
    if errors:
        raise ValidationError(errors)
    return cleaned


def _lock_for_answers(evaluation: Evaluation, now: dt.datetime) -> Evaluation:
    locked = locks.evaluation_qs_select_for_update().select_related("service").get(pk=evaluation.pk)
    if locked.submitted_at is not None:
        raise AlreadySubmitted(_("This questionnaire has already been sent. Thank you!"))
    if now >= locked.closes_at:
        raise WindowClosed(_("The questionnaire was open for three days after the consultation."))
    return locked


@transaction.atomic
def evaluation_save_draft(
    *, evaluation: Evaluation, data: Mapping[str, Any], now: dt.datetime | None = None
) -> Evaluation:
    """Keep what has been answered so far (any part), to finish later from the same link."""
    now = now or timezone.now()
    locked = _lock_for_answers(evaluation, now)
    for name, value in clean_answers(data, complete=False).items():
        setattr(locked, name, value)
    locked.draft_saved_at = now
    locked.full_clean(validate_unique=False)
    locked.save()
    return locked


ONE_BY_ONE = (*(name for name, _label in CRITERIA), "more_of")


@transaction.atomic
def evaluation_answer_one(
    *, evaluation: Evaluation, item: str, value: str, now: dt.datetime | None = None
) -> tuple[Evaluation, bool]:
    """Keep one answer (a score or the choice) in the draft, as a chat's button gives it:
    (the evaluation, whether it changed). The same answer again (a double tap) changes nothing.
    Refused like the form: `WindowClosed`, `AlreadySubmitted`, `ValidationError` naming the item."""
    now = now or timezone.now()
    if item not in ONE_BY_ONE:
        raise ValidationError({"item": _("This question is not in the questionnaire.")})
    locked = _lock_for_answers(evaluation, now)
    cleaned = clean_answers({item: value}, complete=False)
    if not cleaned.get(item):
        if item == "more_of":
            message = _("“%(item)s”: choose one of the answers.") % {"item": MORE_OF_QUESTION}
        else:
            message = str(SCORE_ERROR % {"item": dict(CRITERIA)[item]})
        raise ValidationError({item: message})
    if getattr(locked, item) == cleaned[item]:
        return locked, False
    setattr(locked, item, cleaned[item])
    locked.draft_saved_at = now
    locked.full_clean(validate_unique=False)
    locked.save(update_fields=[item, "draft_saved_at"])
    return locked, True


def evaluation_finish(
    *, evaluation: Evaluation, impressions: str = "", now: dt.datetime | None = None
) -> tuple[Evaluation, bool]:
    """Submit the draft answered one item at a time, with the optional impressions text; as
    `evaluation_submit` (stored once; a missing score is refused naming the item)."""
    current = Evaluation.objects.get(pk=evaluation.pk)
    data: dict[str, Any] = {name: getattr(current, name) for name in ONE_BY_ONE}
    data = {k: ("" if v is None else str(v)) for k, v in data.items()}
    data["impressions"] = impressions
    return evaluation_submit(evaluation=current, data=data, now=now)


@transaction.atomic
def evaluation_submit(
    *, evaluation: Evaluation, data: Mapping[str, Any], now: dt.datetime | None = None
) -> tuple[Evaluation, bool]:
    """Store the answers once: (the evaluation, True) the first time; a second submission (a
    double tap, another tab) changes nothing and returns (the stored evaluation, False)."""
    now = now or timezone.now()
    try:
        locked = _lock_for_answers(evaluation, now)
    except AlreadySubmitted:
        return Evaluation.objects.get(pk=evaluation.pk), False
    for name, value in clean_answers(data, complete=True).items():
        setattr(locked, name, value)
    locked.submitted_at = now
    locked.draft_saved_at = now
    locked.full_clean(validate_unique=False)
    locked.save()
    audit_record(
        actor=None,
        event_type=AuditEventType.QUALITY_EVALUATION_SUBMITTED,
        subject=locked,
        extra={"request_id": locked.request_id, "within_window": True},
    )
    _alert_if_low(locked, now=now)
    return locked, True


def _alert_if_low(evaluation: Evaluation, *, now: dt.datetime) -> int:
    """E-mail the service's heads when the average is below its threshold: which service,
    request and consultation, never the answers."""
    threshold: Decimal = quality_settings_for(evaluation.service).low_score_threshold
    average = evaluation.average
    if average is None or average >= threshold or evaluation.alerted_at is not None:
        return 0
    request = evaluation.request
    service = evaluation.service
    with translation.override(settings.LANGUAGE_CODE):
        served = human_date(timezone.localtime(evaluation.served_at, service.tz))
        where = (
            _("consultation No. %(id)s of %(date)s")
            % {"id": evaluation.consultation_id, "date": served}
            if evaluation.consultation_id
            else _("service of %(date)s") % {"date": served}
        )
        body = "\n".join(
            [
                _(
                    "A parent's evaluation is below the threshold of %(threshold)s set for the "
                    "service “%(service)s”."
                )
                % {"threshold": threshold, "service": service.display_name},
                _("It came for the request %(code)s, %(where)s.")
                % {"code": request.public_code or f"#{request.pk}", "where": where},
                _("Results: %(url)s") % {"url": public_url(reverse("quality:results"))},
            ]
        )
        subject = _("Low evaluation of a consultation")
    sent = 0
    for head in service_heads(service=service):
        if head.email:
            notification_create(
                channel="email",
                recipient=head.email,
                subject=subject,
                body=body,
                kind=KIND_LOW_SCORE,
                about=evaluation,
                copy_to_messengers=False,
                dedupe_key=f"{KIND_LOW_SCORE}:{evaluation.pk}:{head.pk}",
            )
            sent += 1
    Evaluation.objects.filter(pk=evaluation.pk).update(alerted_at=now)
    evaluation.alerted_at = now
    audit_record(
        actor=None,
        event_type=AuditEventType.QUALITY_LOW_SCORE_ALERTED,
        subject=evaluation,
        extra={"heads": sent, "request_id": request.pk},
    )
    return sent
