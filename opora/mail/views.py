"""Staff pages of written consultations (regulation 002 §4.6): my letters, a thread, quarantine."""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from opora.accounts.policy import Action, can, require
from opora.accounts.workplace import StaffRequest
from opora.core.errors import DomainError
from opora.intake.models import ServiceRequest
from opora.mail import files as mail_files
from opora.mail import selectors, services
from opora.mail.complaints import letter_is_complaint_candidate, letter_register_complaint
from opora.mail.forms import AnswerForm, AssignForm
from opora.mail.models import OutgoingLetter
from opora.web.decorators import role_required
from opora.web.selectors import request_service_get, service_consultants
from opora.web.views.common import attach_error, go, list_services, lookup_error, page, today

ANSWER_FIELDS = {"answer_required": "body", "answer_too_long": "body", "files": "file"}


@role_required(Action.WRITTEN_VIEW)
def written_list(request: StaffRequest) -> HttpResponse:
    waiting_only = request.GET.get("show") != "all"
    services, all_services = list_services(request)
    rows = []
    for service in services:
        for row in selectors.written_requests(
            actor=request.user, service=service, waiting_only=waiting_only
        ):
            row.service = service
            rows.append(row)
    if all_services:  # each service's list is in this order already; merge them
        rows.sort(key=lambda r: (r.due_on is None, r.due_on, r.first_received, r.pk))
    return page(
        request,
        "mail/written_list.html",
        {
            "nav": "written",
            "rows": rows,
            "waiting_only": waiting_only,
            "all_services": all_services,
            "today": today(request.service),
            "sees_all": can(request.user, Action.WRITTEN_ASSIGN),
        },
    )


def _thread_context(
    request: StaffRequest, req: ServiceRequest, form: AnswerForm | None = None
) -> dict[str, Any]:
    user = request.user
    can_answer = services.can_answer(user, req)
    ctx: dict[str, Any] = {
        "nav": "written",
        "req": req,
        "items": selectors.thread(request=req),
        "due_on": selectors.waiting_due_on(request=req),
        "today": today(request.service),
        "can_answer": can_answer,
        "form": form or (AnswerForm() if can_answer else None),
        "consultation": selectors.written_consultation(request=req),
        "may_take_up": can(user, Action.CONSULTATION_TAKE_WRITTEN),
    }
    # Issue 15: letters that read as complaints are offered to those who register complaints.
    if can(user, Action.COMPLAINT_FILE, service=request.service):
        ctx["complaint_candidates"] = {
            item.inbound.pk
            for item in ctx["items"]
            if item.inbound is not None and letter_is_complaint_candidate(item.inbound)
        }
    if can(user, Action.WRITTEN_ASSIGN):
        ctx["assign_form"] = AssignForm(
            consultants=service_consultants(service=request.service),
            initial={"consultant": req.assigned_to_id},
        )
    return ctx


@role_required(Action.WRITTEN_VIEW, service_from=request_service_get)
@require_http_methods(["GET", "POST"])
def thread(request: StaffRequest, pk: int) -> HttpResponse:
    try:
        req = selectors.written_request_get(actor=request.user, service=request.service, pk=pk)
    except DomainError as err:
        return lookup_error(request, err)
    form = None
    if request.method == "POST":
        form = AnswerForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data.get("file")
            try:
                out = services.written_answer_create(
                    actor=request.user,
                    request=req,
                    body=form.cleaned_data["body"],
                    submission_key=form.cleaned_data["submission_key"],
                    files=[upload] if upload else [],
                )
            except DomainError as err:
                if err.http_status == 403:
                    return lookup_error(request, err)
                attach_error(form, err, ANSWER_FIELDS)
            else:
                out.refresh_from_db()
                if out.status == OutgoingLetter.Status.SENT:
                    messages.success(request, _("The answer has been sent to %s.") % out.to_address)
                else:
                    messages.warning(
                        request,
                        _(
                            "The answer is saved; the mail server did not take it yet. "
                            "It will be sent automatically."
                        ),
                    )
                return go(request, reverse("mail:thread", args=[req.pk]))
    else:
        services.thread_read_record(actor=request.user, request=req)
    status = 400 if form is not None and form.errors else 200
    return page(request, "mail/thread.html", _thread_context(request, req, form), status=status)


@role_required(Action.COMPLAINT_FILE, service_from=request_service_get)
@require_POST
def letter_complaint(request: StaffRequest, pk: int, letter_pk: int) -> HttpResponse:
    """«Register as a complaint»: the letter of this thread becomes a complaint (once)."""
    try:
        # Registering complaints is per service: another service's thread is refused (403).
        require(request.user, Action.COMPLAINT_FILE, service=request_service_get(pk=pk))
        req = selectors.written_request_get(actor=request.user, service=request.service, pk=pk)
    except DomainError as err:
        return lookup_error(request, err)
    letter = next(
        (
            i.inbound
            for i in selectors.thread(request=req)
            if i.inbound and i.inbound.pk == letter_pk
        ),
        None,
    )
    if letter is None:
        raise Http404(_("No such letter."))
    try:
        complaint = letter_register_complaint(actor=request.user, message=letter)
    except DomainError as err:
        if err.http_status == 403:
            return lookup_error(request, err)
        messages.error(request, err.message)
        return go(request, reverse("mail:thread", args=[pk]))
    messages.success(request, _("The letter is registered as complaint No. %s.") % complaint.number)
    return go(request, reverse("complaints:detail", args=[complaint.pk]))


@role_required(Action.WRITTEN_ASSIGN, service_from=request_service_get)
@require_POST
def assign(request: StaffRequest, pk: int) -> HttpResponse:
    try:
        req = selectors.written_request_get(actor=request.user, service=request.service, pk=pk)
    except DomainError as err:
        return lookup_error(request, err)
    form = AssignForm(request.POST, consultants=service_consultants(service=request.service))
    if form.is_valid():
        try:
            services.written_request_assign(
                actor=request.user, request=req, consultant=form.cleaned_data["consultant"]
            )
        except DomainError as err:
            messages.error(request, str(err.message))
        else:
            messages.success(request, _("The responsible consultant has been changed."))
    else:
        messages.error(request, _("Choose an active consultant of this service."))
    return go(request, reverse("mail:thread", args=[req.pk]))


@role_required(Action.WRITTEN_VIEW)
def attachment(request: StaffRequest, pk: int) -> HttpResponseBase:
    try:
        att = selectors.attachment_get(actor=request.user, service=request.service, pk=pk)
    except DomainError as err:
        return lookup_error(request, err)
    # Always a download, never rendered on our origin: a letter's HTML file must not run here.
    # Stored sealed (mail.files): decrypted here, for the member of staff only.
    return FileResponse(
        io.BytesIO(mail_files.read_plain(att.file, kind=mail_files.ATTACHMENT)),
        as_attachment=True,
        filename=att.filename,
        content_type="application/octet-stream",
    )


@role_required(Action.MAIL_QUARANTINE)
def quarantine(request: StaffRequest) -> HttpResponse:
    return page(
        request,
        "mail/quarantine.html",
        {"nav": "quarantine", "letters": selectors.quarantine(service=request.service)[:200]},
    )


@role_required(Action.MAIL_QUARANTINE)
@require_POST
def release(request: StaffRequest, pk: int) -> HttpResponse:
    try:
        letter = selectors.quarantined_get(service=request.service, pk=pk)
        released = services.inbound_release(actor=request.user, message=letter)
    except DomainError as err:
        if err.http_status in (403, 404):
            return lookup_error(request, err)
        messages.error(request, str(err.message))
        return redirect("mail:quarantine")
    registered = released.request
    assert registered is not None  # inbound_release refuses a letter it cannot register
    messages.success(
        request,
        _("The letter is registered as request %(code)s.") % {"code": registered.public_code},
    )
    return go(request, reverse("mail:quarantine"))


# --- A thread taken up as a consultation (issue 12) -------------------------------------------------


@role_required(Action.CONSULTATION_TAKE_WRITTEN, service_from=request_service_get)
@require_POST
def take_up(request: StaffRequest, pk: int) -> HttpResponse:
    """The consultant takes the thread up as a written consultation."""
    try:
        req = selectors.written_request_get(actor=request.user, service=request.service, pk=pk)
    except DomainError as err:
        return lookup_error(request, err)
    try:
        services.written_take_up(actor=request.user, request=req)
    except DomainError as err:
        if err.http_status == 403:
            return lookup_error(request, err)
        messages.error(request, str(err.message))
    else:
        messages.success(request, _("The thread is taken up as a consultation."))
    return go(request, reverse("mail:thread", args=[req.pk]))


@role_required(Action.CONSULTATION_TAKE_WRITTEN, service_from=request_service_get)
@require_POST
def close_written(request: StaffRequest, pk: int) -> HttpResponse:
    """The written consultation is answered: closed; the protocol page opens."""
    try:
        req = selectors.written_request_get(actor=request.user, service=request.service, pk=pk)
    except DomainError as err:
        return lookup_error(request, err)
    try:
        consultation = services.written_close(actor=request.user, request=req)
    except DomainError as err:
        if err.http_status == 403:
            return lookup_error(request, err)
        messages.error(request, str(err.message))
        return go(request, reverse("mail:thread", args=[req.pk]))
    return go(request, reverse("consultations:protocol", args=[consultation.pk]))
