"""`GET /api/v1/journals/{form}`: a journal of regulations 002, 003 or 004 as a file or JSON.

Thin: the query is parsed here, `journals.selectors.journal_read` checks the caller (the staff who
keep the journals; the authority always gets the coded copy, no person named) and audits the export,
`journals.documents` writes the file.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router
from ninja.params.functions import Path, Query  # what `ninja.Path(...)` calls; typed for mypy

from opora.api.schemas import ErrorOut, InvalidOut, ValidationErrorOut
from opora.core.errors import NotFound
from opora.core.models import Service
from opora.journals.catalogue import FORMS
from opora.journals.documents import CONTENT_TYPES, filename, journal_document
from opora.journals.selectors import journal_form_get, journal_read

router = Router(tags=["journals"])

# The form's code; an unknown one that looks like a code gets the 404 listing the forms.
FORM = Path(..., pattern=r"^[a-z0-9-]{1,40}$", description="The form, e.g. requests-002.")
SERVICE = Query(..., max_length=50, description="Service code, e.g. kz-1411.")
FROM = Query(..., alias="from", description="First day, YYYY-MM-DD.")
TO = Query(..., alias="to", description="Last day, YYYY-MM-DD.")
FORMAT = Query("xlsx")
COPY = Query("general", alias="copy")

FILE_RESPONSE = {
    "200": {
        "description": "The journal: the form's title, its headings word for word, the rows.",
        "content": {
            ct.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
            for ct in CONTENT_TYPES.values()
        },
    }
}


@router.get(
    "/{form}",
    response={
        400: InvalidOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        422: ValidationErrorOut,
    },
    openapi_extra={"responses": FILE_RESPONSE},
    summary="A journal of the regulations as XLSX, DOCX, PDF, CSV or JSON",
    description=(
        "`form`: " + ", ".join(f"`{code}`" for code in FORMS) + ". The period is the service's "
        "local days `from`–`to`, at most a year, begun already. JSON is "
        '`{"columns": [...headings...], "rows": [[...], ...]}`. '
        "The journal of services (`services-004`) writes a code for every person unless "
        "`copy=service` is asked for by a head, coordinator or administrator."
    ),
)
def journal_export(
    request: HttpRequest,
    form: str = FORM,
    service: str = SERVICE,
    date_from: dt.date = FROM,
    date_to: dt.date = TO,
    format: Literal["xlsx", "docx", "pdf", "csv", "json"] = FORMAT,  # noqa: A002
    copy_kind: Literal["general", "service"] = COPY,
) -> FileResponse:
    journal_form_get(form)  # an unknown form is a 404 listing the forms, whoever asks
    found = Service.objects.filter(code=service.strip(), is_active=True).first()
    if found is None:
        raise NotFound(_("Unknown service “%(code)s”.") % {"code": service})
    journal = journal_read(
        # The token's User, set by ninja from BearerAuth (HttpRequest does not declare `auth`).
        actor=request.auth,  # type: ignore[attr-defined]
        service=found,
        form=form,
        date_from=date_from,
        date_to=date_to,
        export=format,
        service_copy=copy_kind == "service",
    )
    return FileResponse(
        journal_document(journal, format),
        as_attachment=format not in ("json",),
        filename=filename(journal, format),
        content_type=CONTENT_TYPES[format],
    )
