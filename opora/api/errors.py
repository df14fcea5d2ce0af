"""Exception handlers: every error the API returns is JSON with a `detail` a person can act on.

Bad input never becomes a 500: domain errors keep their status, a malformed IIN and request data that
fails validation are 422, missing objects 404.
"""

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from opora.core.errors import DomainError
from opora.registry.iin import IINError

logger = logging.getLogger(__name__)

# Pydantic error types → a message in the user's language; anything else keeps pydantic's text.
_VALIDATION_MESSAGES: dict[str, str] = {
    "missing": N_("This field is required."),
    "string_type": N_("Enter text."),
    "string_too_short": N_("This field cannot be empty."),
    "string_too_long": N_("This value is too long (at most %(max_length)s characters)."),
    "int_type": N_("Enter a whole number."),
    "int_parsing": N_("Enter a whole number."),
    "date_type": N_("Enter a date as YYYY-MM-DD."),
    "date_parsing": N_("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": N_("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_inexact": N_("Enter a date as YYYY-MM-DD."),
    "datetime_type": N_("Enter a date and time in ISO 8601, e.g. 2025-03-14T15:00:00+05:00."),
    "datetime_parsing": N_("Enter a date and time in ISO 8601, e.g. 2025-03-14T15:00:00+05:00."),
    "datetime_from_date_parsing": N_(
        "Enter a date and time in ISO 8601, e.g. 2025-03-14T15:00:00+05:00."
    ),
    "enum": N_("Choose one of: %(expected)s."),
    "literal_error": N_("Choose one of: %(expected)s."),
    "model_attributes_type": N_("Send a JSON object."),
    "model_type": N_("Send a JSON object."),
    "dict_type": N_("Send a JSON object."),
    "int_from_float": N_("Enter a whole number."),
    "bool_type": N_("Enter true or false."),
    "bool_parsing": N_("Enter true or false."),
}


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    # ninja prefixes the source ("body", "query", "path") and, for bodies, the parameter name.
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
        if parts and parts[0] in {"data", "payload", "filters"}:
            parts = parts[1:]
    return ".".join(parts) or "body"


def _validation_message(error: dict[str, Any]) -> str:
    template = _VALIDATION_MESSAGES.get(error.get("type", ""))
    if template is None:
        return str(error.get("msg", _("Invalid value.")))
    params = {k: v for k, v in (error.get("ctx") or {}).items()}
    try:
        return _(template) % params if "%(" in template else _(template)
    except (KeyError, TypeError, ValueError):
        return str(error.get("msg", _("Invalid value.")))


def readable_validation_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {"field": _field_name(e.get("loc", ())), "message": _validation_message(e)} for e in errors
    ]


def install_exception_handlers(api: NinjaAPI) -> None:
    """Register the handlers on `api` (ninja looks a handler up along the exception's MRO)."""

    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return respond(request, exc.http_status, {"detail": str(exc.message), "code": exc.code})

    @api.exception_handler(IINError)
    def iin_error(request: HttpRequest, exc: IINError) -> HttpResponse:
        # Every 422 has the shape of ValidationErrorOut: `errors` names the field.
        return respond(
            request,
            422,
            {
                "detail": exc.message,
                "code": f"iin_{exc.code}",
                "errors": [{"field": "iin", "message": exc.message}],
            },
        )

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = readable_validation_errors(exc.errors)
        detail = " ".join(f"{e['field']}: {e['message']}" for e in errors) or _("Invalid input.")
        return respond(request, 422, {"detail": detail, "code": "validation", "errors": errors})

    @api.exception_handler(DjangoValidationError)
    def model_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        # full_clean() inside a service: the input broke a model rule.
        if hasattr(exc, "error_dict"):
            errors = [
                {"field": field, "message": str(message)}
                for field, messages in exc.message_dict.items()
                for message in messages
            ]
        else:
            errors = [{"field": "", "message": str(m)} for m in exc.messages]
        detail = "; ".join(
            f"{e['field']}: {e['message']}"
            if e["field"] and e["field"] != "__all__"
            else e["message"]
            for e in errors
        )
        return respond(request, 400, {"detail": detail, "code": "invalid", "errors": errors})

    @api.exception_handler(DataError)
    def data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
        # The database refused a value the schemas let through (a NUL byte, an out-of-range
        # number): bad input, not a server fault.
        logger.warning("API input rejected by the database: %s", type(exc).__name__)
        return respond(
            request,
            400,
            {
                "detail": _(
                    "The request contains a value that cannot be stored, such as a NUL "
                    "character or a number out of range; check the data and try again."
                ),
                "code": "bad_data",
            },
        )

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, {"detail": _("Not found."), "code": "not_found"})

    @api.exception_handler(ObjectDoesNotExist)
    def object_not_found(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
        return respond(request, 404, {"detail": _("Not found."), "code": "not_found"})

    @api.exception_handler(DjangoPermissionDenied)
    def forbidden(request: HttpRequest, exc: DjangoPermissionDenied) -> HttpResponse:
        detail = str(exc) or _("You do not have permission to do this.")
        return respond(request, 403, {"detail": detail, "code": "forbidden"})

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = respond(
            request,
            401,
            {
                "detail": _(
                    "Authentication required: send a valid API token as "
                    "“Authorization: Bearer <token>”."
                ),
                "code": "unauthenticated",
            },
        )
        response["WWW-Authenticate"] = 'Bearer realm="opora"'
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        detail = exc.message
        if exc.status_code == 400 and "parse request body" in exc.message:
            detail = _("The request body is not valid JSON.")
        return respond(request, exc.status_code, {"detail": detail, "code": "http_error"})
