"""Complaint pages: the portal's form and follow-up page, and the staff's lists and case page.
Thin: each parses the form, calls a service or selector, and renders."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from opora.accounts.models import User
from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest, forbidden, role_required
from opora.complaints import access, deadlines, regulation, selectors, services
from opora.complaints.consent import CONSENT_TEXT, CONSENT_VERSION
from opora.complaints.forms import (
    AnswerForm,
    AssignForm,
    DisagreeForm,
    FollowForm,
    PortalComplaintForm,
    RecordingRequestForm,
    StaffComplaintForm,
)
from opora.complaints.models import Complaint
from opora.core import ratelimit
from opora.core.actors import SystemActor
from opora.core.errors import DomainError, NotFound
from opora.core.errors import PermissionDenied as Denied
from opora.core.models import Service

PORTAL = SystemActor(name="complaints.portal")


def _service(code: str) -> Service:
    service = Service.objects.filter(code=code, is_active=True).first()
    if service is None:
        raise Http404
    return service


def _portal(
    request: HttpRequest, template: str, ctx: dict[str, Any], status: int = 200
) -> HttpResponse:
    ctx.update(
        law16=regulation.SECTION_16, law17=regulation.SECTION_17, law19=regulation.SECTION_19
    )
    response = TemplateResponse(request, template, ctx, status=status)
    with timezone.override(ctx["service"].tz):
        response.render()
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def portal_new(request: HttpRequest, code: str) -> HttpResponse:
    """File a complaint (§16). On success the number and the follow-up code are shown once."""
    if request.method == "POST" and ratelimit.limit_hit(ratelimit.PORTAL_FORM, request):
        return ratelimit.too_many_requests(request, ratelimit.PORTAL_FORM)
    service = _service(code)
    rules = deadlines.settings_for(service)
    form = PortalComplaintForm(request.POST or None, allows_anonymous=rules.allows_anonymous)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            complaint, follow_code = services.complaint_register(
                actor=PORTAL,
                service=service,
                channel=Complaint.Channel.PORTAL,
                text=d["text"],
                is_anonymous=bool(d.get("anonymous")),
                complainant_name=d["full_name"],
                phone=d["phone"],
                email=d["email"],
                request_code=d["request_code"],
                consent=d["consent"],
            )
        except DomainError as e:
            if e.code == "request_not_yours":
                refusal = str(e.message)
            else:
                form.add_error(None, str(e.message))
        else:
            return _portal(
                request,
                "complaints/portal_registered.html",
                {"service": service, "complaint": complaint, "follow_code": follow_code},
            )
    return _portal(
        request,
        "complaints/portal_form.html",
        {
            "service": service,
            "form": form,
            "refusal": refusal,
            "rules": rules,
            "consent_text": CONSENT_TEXT,
            "consent_version": CONSENT_VERSION,
        },
        status=200 if not (form.errors or refusal) else 400,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def portal_follow(request: HttpRequest, code: str) -> HttpResponse:
    """The follow-up page: the complaint's status and answer by its code (posted, never in the
    address). A wrong code gets the same answer as a code of another service."""
    if request.method == "POST" and ratelimit.limit_hit(ratelimit.PORTAL_CODE, request):
        return ratelimit.too_many_requests(request, ratelimit.PORTAL_CODE)
    service = _service(code)
    form = FollowForm(request.POST or None)
    complaint = None
    not_found = False
    if request.method == "POST" and form.is_valid():
        complaint = selectors.complaint_by_follow_code(
            service=service, code=form.cleaned_data["code"]
        )
        not_found = complaint is None
    return _follow_page(request, service, form, complaint, not_found=not_found)


def _follow_page(
    request: HttpRequest,
    service: Service,
    form: FollowForm,
    complaint: Complaint | None,
    *,
    not_found: bool = False,
    disagree: DisagreeForm | None = None,
) -> HttpResponse:
    code = form.cleaned_data.get("code", "") if form.is_bound and form.is_valid() else ""
    disputable = complaint is not None and (
        complaint.stage == Complaint.Stage.SERVICE
        and complaint.status in (Complaint.Status.ANSWERED, Complaint.Status.CLOSED)
    )
    return _portal(
        request,
        "complaints/portal_follow.html",
        {
            "service": service,
            "form": form,
            "complaint": complaint,
            "not_found": not_found,
            "disputable": disputable,
            "disagree": disagree or DisagreeForm(initial={"code": code}),
        },
        status=404 if not_found else 200,
    )


@never_cache
@require_POST
def portal_disagree(request: HttpRequest, code: str) -> HttpResponse:
    """The complainant disagrees with the answer (§19): reopened to the authority."""
    if ratelimit.limit_hit(ratelimit.PORTAL_CODE, request):
        return ratelimit.too_many_requests(request, ratelimit.PORTAL_CODE)
    service = _service(code)
    disagree = DisagreeForm(request.POST)
    form = FollowForm({"code": request.POST.get("code", "")})
    complaint = None
    if disagree.is_valid() and form.is_valid():
        complaint = selectors.complaint_by_follow_code(
            service=service, code=disagree.cleaned_data["code"]
        )
    if complaint is None:
        return _follow_page(request, service, form, None, not_found=True)
    try:
        complaint = services.complaint_dispute(
            complaint=complaint, text=disagree.cleaned_data["text"]
        )
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(
            request,
            _("Your disagreement is registered: the complaint goes to the authority (§19)."),
        )
    return _follow_page(request, service, form, complaint)


# --- Staff -----------------------------------------------------------------------------------


def _staff_page(
    request: HttpRequest, template: str, ctx: dict[str, Any], tz: dt.tzinfo | None = None
) -> HttpResponse:
    ctx.setdefault("nav", "complaints")
    ctx.update(law17=regulation.SECTION_17, law19=regulation.SECTION_19)
    response = TemplateResponse(request, template, ctx)
    if tz is not None:
        with timezone.override(tz):
            response.render()
    response["Cache-Control"] = "no-store"
    return response


@role_required(Action.COMPLAINT_FILE)
def complaint_list(request: StaffRequest) -> HttpResponse:
    """Every complaint of the service with its deadline; overdue ones highlighted."""
    status = request.GET.get("status", "")
    if status not in Complaint.Status.values:
        status = ""
    try:
        rows = selectors.complaints_for_service(
            actor=request.user, service=request.service, status=status
        )
    except Denied as e:
        return forbidden(request, str(e.message))
    return _staff_page(
        request,
        "complaints/list.html",
        {
            "rows": rows,
            "status": status,
            "statuses": Complaint.Status.choices,
            "may_register": access.may_register(request.user, request.service),
            "today": deadlines.local_date(request.service),
        },
    )


@role_required(Action.COMPLAINT_FILE)
@require_http_methods(["GET", "POST"])
def complaint_new(request: StaffRequest) -> HttpResponse:
    """A paper letter, a visit or a letter to the mailbox, entered by a coordinator or a head."""
    form = StaffComplaintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            complaint, _code = services.complaint_register(
                actor=request.user,
                service=request.service,
                channel=d["channel"],
                text=d["text"],
                complainant_name=d["full_name"],
                phone=d["phone"],
                email=d["email"],
                postal_address=d["postal_address"],
                request_code=d["request_code"],
            )
        except DomainError as e:
            form.add_error(None, str(e.message))
        else:
            messages.success(
                request,
                _("Complaint %(number)s registered; answer due by %(due)s.")
                % {"number": complaint.number, "due": complaint.due_on.strftime("%d.%m.%Y")},
            )
            return redirect("complaints:detail", complaint.pk)
    return _staff_page(request, "complaints/new.html", {"form": form})


def _complaint_or_page(request: StaffRequest, complaint_id: int) -> Complaint | HttpResponse:
    try:
        return access.complaint_access(request.user, complaint_id)
    except NotFound:
        raise Http404 from None
    except Denied as e:
        return forbidden(request, str(e.message))


@role_required(Action.COMPLAINT_REVIEW, needs_service=False)
@require_http_methods(["GET", "POST"])
def complaint_detail(request: StaffRequest, complaint_id: int) -> HttpResponse:
    """The case page: the complaint, its case file (each part's read audited), the reviewer,
    the recording's clock, the answer and the history."""
    found = _complaint_or_page(request, complaint_id)
    if isinstance(found, HttpResponse):
        return found
    complaint = found
    user: User = request.user
    assign_form = answer_form = recording_form = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "assign":
                assign_form = AssignForm(
                    request.POST,
                    candidates=list(access.reviewer_candidates(complaint, everyone=True)),
                )
                if assign_form.is_valid():
                    reviewer = User.objects.get(pk=assign_form.cleaned_data["reviewer"])
                    services.complaint_assign(actor=user, complaint=complaint, reviewer=reviewer)
                    messages.success(request, _("The reviewer is assigned."))
                    return redirect("complaints:detail", complaint.pk)
            elif action == "take":
                services.complaint_assign(actor=user, complaint=complaint, reviewer=user)
                messages.success(request, _("You review this complaint now."))
                return redirect("complaints:detail", complaint.pk)
            elif action == "recording":
                recording_form = RecordingRequestForm(request.POST)
                if recording_form.is_valid():
                    services.complaint_request_recording(
                        actor=user,
                        complaint=complaint,
                        requested_on=recording_form.cleaned_data["requested_on"],
                    )
                    messages.success(request, _("The request for the recording is recorded."))
                    return redirect("complaints:detail", complaint.pk)
            elif action == "answer":
                answer_form = AnswerForm(request.POST)
                if answer_form.is_valid():
                    services.complaint_answer(
                        actor=user, complaint=complaint, answer=answer_form.cleaned_data["answer"]
                    )
                    messages.success(request, _("The answer is stored and sent."))
                    return redirect("complaints:detail", complaint.pk)
            elif action == "close":
                services.complaint_close(actor=user, complaint=complaint)
                messages.success(request, _("The complaint is closed."))
                return redirect("complaints:detail", complaint.pk)
        except DomainError as e:
            messages.error(request, str(e.message))
        complaint.refresh_from_db()
    full = access.may_read(user, complaint)
    case = selectors.complaint_case_file(actor=user, complaint=complaint) if full else None
    manage = access.may_manage(user, complaint.service) or (
        complaint.status == Complaint.Status.DISPUTED and access.may_take(user, complaint)
    )
    if assign_form is None and manage:
        assign_form = AssignForm(
            candidates=list(access.reviewer_candidates(complaint, everyone=True))
        )
    service = complaint.service
    today = deadlines.local_date(service)
    open_ = complaint.status in selectors.OPEN_STATUSES
    return _staff_page(
        request,
        "complaints/detail.html",
        {
            "complaint": complaint,
            "full": full,
            "case": case,
            "assign_form": assign_form
            if manage and complaint.status in selectors.OPEN_STATUSES
            else None,
            "may_take": access.may_take(user, complaint),
            "may_answer": access.may_answer(user, complaint),
            "answer_form": answer_form or AnswerForm(),
            "may_request_recording": full
            and complaint.consultation_id is not None
            and complaint.recording_requested_at is None
            and (access.may_answer(user, complaint) or access.may_manage(user, service))
            and open_,
            "recording_form": recording_form
            or RecordingRequestForm(initial={"requested_on": today}),
            "recording_days_left": selectors.recording_clock(complaint, today),
            "days_left": deadlines.working_days_left(service, today, complaint.due_on)
            if open_
            else None,
            "overdue": open_ and complaint.due_on < today,
            "may_close": complaint.status == Complaint.Status.ANSWERED
            and (access.may_manage(user, service) or complaint.reviewer_id == user.pk),
            "events": complaint.events.select_related("actor") if full else [],
        },
        tz=service.tz,
    )


@role_required(Action.COMPLAINT_AUTHORITY, needs_service=False)
def authority_list(request: StaffRequest) -> HttpResponse:
    """The authority's view: counts per supervised service; the complaints it reviews in full."""
    services_counts, reviewed = selectors.authority_overview(actor=request.user)
    return _staff_page(
        request,
        "complaints/authority.html",
        {
            "services_counts": services_counts,
            "reviewed": reviewed,
            "statuses": Complaint.Status.choices,
        },
    )
