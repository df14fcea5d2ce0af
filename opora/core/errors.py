"""Domain errors carry a translatable message a person can act on, and a stable code for the API."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # A str or a lazy translation (`gettext_lazy`): what Django's forms and messages accept.
    from django_stubs_ext import StrOrPromise


class DomainError(Exception):
    code = "invalid"
    http_status = 400

    def __init__(self, message: StrOrPromise, *, code: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class PermissionDenied(DomainError):
    code = "forbidden"
    http_status = 403
