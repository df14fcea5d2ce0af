"""The daily hand-off: the workbook of the day's requests and its sending (regulation 001 §6).

Every request is handed over exactly once (regulations 000 §11–12, 001 §9): a run takes every
request of its service not yet handed over that was registered before its cut-off — the operators'
17:00 close of the day (§11) — and records each in a `HandoffItem`, unique per request. A call at
17:50 or a letter at night is not lost: it waits for the next run. Runs of one service are
serialised by a row lock on the service (`locks.service_qs_select_for_update`); the unique index is
the last word should anything slip past it.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import (
    transaction,
)
from django.db.models import (
    Prefetch,
)
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from opora.accounts.actors import Actor
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError
from opora.intake.models import ServiceRequest
from opora.notifications.models import Notification
from opora.notifications.services import (
    notification_create,
)
from opora.scheduling import locks
from opora.scheduling.calendar import make_aware_local, to_local
from opora.scheduling.models import Booking, HandoffItem, HandoffRun
from opora.scheduling.services._common import HANDOFF_ROLES, XLSX_MIME, _d, _require

# Regulation 001 §6: the data of a request, as the university receives it every day.
HANDOFF_COLUMNS = [
    "№",
    "Дата и время регистрации",
    "Ф.И.О.",
    "ИИН",
    "Телефон",
    "Регион",
    "Дата и время консультации",
    "Консультант",
    "Статус",
]


# Regulation 000 §11: operators present the day's requests to the coordinator by 17:00.
HANDOFF_CLOSE = dt.time(17, 0)


# --- daily hand-off ---------------------------------------------------------------------------


def handoff_cutoff(*, service: Any, date: dt.date, now: dt.datetime | None = None) -> dt.datetime:
    """The moment before which a request goes into the hand-off of `date`: the 17:00 close of that
    local day (earlier when the service hands over earlier), or `now` for a send before the close."""
    close = HANDOFF_CLOSE
    if service.handoff_time is not None and service.handoff_time < close:
        close = service.handoff_time
    cutoff = make_aware_local(service, date, close)
    if now is not None and now < cutoff:
        cutoff = now
    return cutoff


def requests_pending_handoff(*, service: Any) -> Any:
    """The service's requests not yet in any hand-off (a system read)."""
    return ServiceRequest.objects.filter(service=service, handoff_item__isnull=True)


def handoff_lists(
    *, service: Any, date: dt.date
) -> tuple[list[ServiceRequest], list[ServiceRequest]]:
    """The coordinator's view of the hand-off of `date`: what is in it (sent: its requests; not yet
    sent: those registered before the close) and what waits for the next one (registered after)."""
    run = HandoffRun.objects.filter(service=service, date=date, sent_at__isnull=False).first()
    pending = requests_pending_handoff(service=service).select_related("region")
    pending = pending.order_by("created_at", "pk")
    if run is not None:
        included = list(
            ServiceRequest.objects.filter(handoff_item__run=run)
            .select_related("region")
            .order_by("created_at", "pk")
        )
        later = list(pending.filter(created_at__gte=run.cutoff)) if run.cutoff else []
        return included, later
    cutoff = handoff_cutoff(service=service, date=date)
    return list(pending.filter(created_at__lt=cutoff)), list(pending.filter(created_at__gte=cutoff))


def _naive_local(service: Any, value: dt.datetime | None) -> dt.datetime | None:
    # Excel has no time zones: write the service's wall-clock time.
    return to_local(service, value).replace(tzinfo=None) if value is not None else None


def handoff_workbook(*, service: Any, date: dt.date, requests: Sequence[ServiceRequest]) -> bytes:
    """The XLSX of the day's requests, columns as in regulation 001 §6."""
    import openpyxl  # here, not at every process's start-up
    from openpyxl.worksheet.worksheet import Worksheet

    from opora.core.exports import write_row  # every cell plain text: names come from the public

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # a new workbook's one sheet
    sheet.title = date.strftime("%d.%m.%Y")
    write_row(sheet, HANDOFF_COLUMNS)
    with translation.override(settings.LANGUAGE_CODE):
        for number, req in enumerate(requests, start=1):
            active = getattr(req, "active_bookings", None) or []
            booking = active[0] if active else None
            phones = ", ".join(p for p in (req.phone, req.phone_extra) if p)
            write_row(
                sheet,
                [
                    number,
                    _naive_local(service, req.created_at),
                    req.full_name,
                    req.iin,
                    phones,
                    req.region.name if req.region is not None else "",
                    _naive_local(service, booking.slot.starts_at) if booking else None,
                    booking.slot.consultant.display_name if booking else "",
                    str(req.get_status_display()),
                ],
            )
    for row in sheet.iter_rows(min_row=2):
        for cell in (row[1], row[6]):
            cell.number_format = "DD.MM.YYYY HH:MM"
    for letter, width in zip("ABCDEFGHI", (5, 20, 36, 14, 24, 24, 20, 30, 16), strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@transaction.atomic
def handoff_send(
    *, service: Any, date: dt.date, actor: Actor | None = None, now: dt.datetime | None = None
) -> HandoffRun:
    """Send the requests not yet handed over and registered before the cut-off of the local `date`
    (`handoff_cutoff`) to the provider (regulation 000 §12); each is recorded in the run's items.

    Idempotent: one HandoffRun per service and day, taken under the service's row lock (runs of
    one service never overlap); a day already sent is returned as it is. The e-mail with the XLSX is stored as a notification in the same
    transaction (`run.notification`) and delivered after commit by the notifications dispatcher,
    which retries a failed send and leaves it visible as failed; nothing is sent from here.
    """
    if actor is not None:
        _require(
            actor,
            HANDOFF_ROLES,
            service=service,
            message=_("Only a coordinator may send the day's requests."),
        )
    if not service.handoff_email:
        raise DomainError(
            _("The service has no hand-off e-mail address; set it in the service settings."),
            code="no_handoff_email",
        )
    locks.service_qs_select_for_update().get(pk=service.pk)
    run, _created = locks.handoff_run_qs_select_for_update().get_or_create(
        service=service, date=date
    )
    if run.sent_at is not None:
        return run
    cutoff = handoff_cutoff(service=service, date=date, now=timezone.now() if now is None else now)
    requests = list(
        requests_pending_handoff(service=service)
        .filter(created_at__lt=cutoff)
        .select_related("region")
        .prefetch_related(
            Prefetch(
                "bookings",
                queryset=Booking.objects.filter(status=Booking.Status.ACTIVE).select_related(
                    "slot__consultant"
                ),
                to_attr="active_bookings",
            )
        )
        .order_by("created_at", "pk")
    )
    content = handoff_workbook(service=service, date=date, requests=requests)
    recipients = [service.handoff_email]
    run.recipients = recipients
    run.request_count = len(requests)
    run.sent_at = timezone.now()
    run.cutoff = cutoff
    run.error = ""
    run.full_clean(exclude={"service"}, validate_unique=False, validate_constraints=False)
    run.save(update_fields=["recipients", "request_count", "sent_at", "cutoff", "error"])
    HandoffItem.objects.bulk_create([HandoffItem(run=run, request=req) for req in requests])
    audit_record(
        actor=actor,
        event_type=AuditEventType.HANDOFF_SENT,
        subject=run,
        extra={"date": date.isoformat(), "request_count": run.request_count},
    )
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("%(service)s: requests of %(date)s") % {
            "service": service.name,
            "date": _d(date),
        }
        body = _("Requests registered on %(date)s: %(count)d. The list is attached.") % {
            "date": _d(date),
            "count": run.request_count,
        }
    subject = subject[: Notification._meta.get_field("subject").max_length]
    filename = f"requests-{date.isoformat()}.xlsx"
    run.notification = notification_create(
        channel=Notification.Channel.EMAIL,
        recipient=service.handoff_email,
        subject=subject,
        body=body,
        kind="handoff",
        about=run,
        attachments=[(filename, content, XLSX_MIME)],
        dedupe_key=f"handoff:{run.pk}",
        copy_to_messengers=False,
    )
    run.save(update_fields=["notification"])
    return run
