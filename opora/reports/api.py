"""`GET /api/v1/reports/{service}/{form}?month=YYYY-MM&format=xlsx|pdf|json` — the 1411 forms for the
ministry's and the organisations' systems (bearer tokens of the parent API).

The answer is the latest version the caller may see: the sending organisation sees its drafts (or,
before any draft, the figures as they stand: state `not_drafted`); the receiver sees what was sent
to it. Figures, breakdowns, version and sign-off state; never a person.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema

from opora.accounts.models import Role
from opora.core.errors import DomainError, NotFound, PermissionDenied
from opora.core.models import Service
from opora.reports import documents, selectors, services
from opora.reports.kinds import KINDS
from opora.reports.models import Report

router = Router(tags=["reports"])

FORMATS = ("json", "xlsx", "pdf")


# The API's error bodies. Copies, field for field and word for word, of opora.api.schemas (a higher
# layer this app may not import): OpenAPI components are keyed by class name, so the document shows
# one schema of each name, as opora/api/tests/test_input_boundary.py demands of every operation.
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


class ReportOut(Schema):
    kind: str
    month: str
    due: str
    version: int | None
    state: str
    signed_at: str | None
    sent_at: str | None
    figures: dict[str, Any]


def _service(code: str) -> Service:
    service = Service.objects.filter(code=code.strip()[:50], is_active=True).first()
    if service is None:
        raise NotFound(_("Unknown service “%(code)s”.") % {"code": code[:50]})
    return service


@router.get(
    "/{service_code}/{kind}",
    response={
        200: ReportOut,
        400: InvalidOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        422: ValidationErrorOut,
    },
)
def report_get(
    request: HttpRequest,
    service_code: str = Path(..., pattern=r"^[A-Za-z0-9_-]{1,50}$", description="e.g. kz-1411"),
    kind: str = Path(..., pattern=r"^[0-9.]{1,5}$", description="3.1, 3.2, 3.3 or 3.4"),
    # Printable text only; what it means is checked below, with a message naming the problem.
    month: str | None = Query(None, pattern=r"^[ -~]{0,20}$", description="YYYY-MM"),
    format: str = Query("json", pattern=r"^[ -~]{0,10}$", description="json, xlsx or pdf"),  # noqa: A002
) -> Any:
    """One 1411 form of one month: `kind` is 3.1, 3.2, 3.3 or 3.4."""
    user = request.auth  # type: ignore[attr-defined]
    if not user.has_role(*selectors.REPORT_ROLES):
        raise PermissionDenied(_("Your role does not allow this operation."))
    if kind not in KINDS:
        raise NotFound(
            _("Unknown report form “%(kind)s”; the forms are: %(forms)s.")
            % {"kind": kind[:10], "forms": ", ".join(KINDS)}
        )
    if format not in FORMATS:
        raise DomainError(
            _("Unknown format “%(format)s”; choose one of: %(formats)s.")
            % {"format": format[:10], "formats": ", ".join(FORMATS)},
            code="bad_format",
        )
    service = _service(service_code)
    if not selectors.services_of(user).filter(pk=service.pk).exists():
        raise PermissionDenied(_("Your organisation takes no part in this service's reports."))
    parsed = services.parse_month(month, service=service)
    report = (
        selectors.reports_visible(user)
        .filter(service=service, kind=kind, month=parsed)
        .order_by("-version")
        .first()
    )
    if report is None:
        sender, receiver = services.organisations(service, kind)
        if not (user.organisation_id == sender.pk or user.is_superuser or user.role == Role.ADMIN):
            raise NotFound(
                _("Report %(kind)s for %(month)s has not been sent to you yet.")
                % {"kind": kind, "month": f"{parsed:%m.%Y}"}
            )
        figures = services.compute_figures(service=service, kind=kind, month=parsed)
        shown = Report(
            service=service,
            kind=kind,
            month=parsed,
            organisation_from=sender,
            organisation_to=receiver,
            figures=figures,
        )
    else:
        shown = report
    if format == "xlsx":
        content, mime = documents.report_xlsx(shown), services.XLSX_MIME
    elif format == "pdf":
        content, mime = documents.report_pdf(shown), "application/pdf"
    else:
        return documents.report_json(report, shown.figures, kind=kind, month=parsed)
    response = HttpResponse(content, content_type=mime)
    response["Content-Disposition"] = (
        f'attachment; filename="{documents.report_filename(shown, format)}"'
    )
    return response
