"""«Mark anonymous» on the operator's request page: a letter or a messenger conversation becomes
anonymous as the portal's form allows (issue 12); the rule is `intake.services.request_mark_anonymous`."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest
from opora.core.errors import DomainError
from opora.intake import selectors as intake_selectors
from opora.intake import services as intake_services
from opora.web.decorators import role_required
from opora.web.selectors import request_service_get
from opora.web.views.common import go, lookup_error


@role_required(Action.REQUEST_MARK_ANONYMOUS, service_from=request_service_get)
@require_POST
def request_mark_anonymous(request: StaffRequest, pk: int) -> HttpResponse:
    try:
        service_request = intake_selectors.request_get(actor=request.user, pk=pk)
    except DomainError as err:
        return lookup_error(request, err)
    try:
        intake_services.request_mark_anonymous(actor=request.user, request=service_request)
    except DomainError as err:
        messages.error(request, str(err.message))
    else:
        messages.success(
            request,
            _("The request is anonymous now: its code is %(code)s.")
            % {"code": service_request.public_code or "—"},
        )
    return go(request, reverse("operator_request", args=[pk]))
