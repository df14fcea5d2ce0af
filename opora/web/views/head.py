"""The head approves the consultants' schedules or returns them with a comment."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest
from opora.core.errors import DomainError
from opora.scheduling import services as scheduling_services
from opora.web.decorators import role_required
from opora.web.forms import ReturnForm
from opora.web.selectors import schedule_get, schedules_submitted
from opora.web.views.common import go, page


def _page(request: StaffRequest, status: int = 200, **extra: object) -> HttpResponse:
    ctx: dict[str, object] = {
        "nav": "approvals",
        "schedules": list(schedules_submitted(service=request.service)),
        "return_forms": {},
    }
    ctx.update(extra)
    return page(request, "web/head/schedules.html", ctx, status=status)


@role_required(Action.SCHEDULE_APPROVE)
def schedules(request: StaffRequest) -> HttpResponse:
    return _page(request)


@role_required(Action.SCHEDULE_APPROVE)
@require_POST
def schedule_approve(request: StaffRequest, pk: int) -> HttpResponse:
    schedule = schedule_get(service=request.service, pk=pk)
    if schedule is None:
        raise Http404
    try:
        scheduling_services.schedule_approve(actor=request.user, schedule=schedule)
    except DomainError as err:
        messages.error(request, str(err.message))
    else:
        messages.success(
            request,
            _("The schedule of %(name)s is approved; its times are open for booking.")
            % {"name": schedule.consultant.display_name},
        )
    return go(request, reverse("head_schedules"))


@role_required(Action.SCHEDULE_APPROVE)
@require_POST
def schedule_return(request: StaffRequest, pk: int) -> HttpResponse:
    schedule = schedule_get(service=request.service, pk=pk)
    if schedule is None:
        raise Http404
    form = ReturnForm(request.POST, prefix=f"s{schedule.pk}")
    if form.is_valid():
        try:
            scheduling_services.schedule_return(
                actor=request.user, schedule=schedule, comment=form.cleaned_data["comment"]
            )
        except DomainError as err:
            form.add_error(None, err.message)
        else:
            messages.success(
                request,
                _("The schedule of %(name)s is returned to the coordinator.")
                % {"name": schedule.consultant.display_name},
            )
            return go(request, reverse("head_schedules"))
    return _page(request, status=400, failed_pk=schedule.pk, failed_form=form)
