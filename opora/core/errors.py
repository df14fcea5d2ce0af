"""Domain errors carry a translatable message a person can act on, and a stable code for the API."""

from django.utils.functional import Promise


class DomainError(Exception):
    code = "invalid"
    http_status = 400

    def __init__(self, message: str | Promise, *, code: str | None = None) -> None:
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
