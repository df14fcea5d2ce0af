"""CONTRACT (to be implemented): writes of the intake domain."""

import datetime as dt
from typing import Any

from opora.intake.models import ServiceRequest


def request_create(
    *,
    actor: Any,
    service: Any,
    full_name: str,
    iin: str = "",
    phone: str = "",
    phone_extra: str = "",
    email: str = "",
    region: Any = None,
    desired_at: dt.datetime | None = None,
    reason: str = "",
    channel: str = "phone",
    eligibility_check: Any = None,
) -> ServiceRequest:
    """Register a request. Where the service requires eligibility, a fresh (or given) eligibility
    check must be positive for this IIN and name, else DomainError(code="ineligible")."""
    raise NotImplementedError


def request_refuse(*, actor: Any, request: ServiceRequest, ground: str, note: str = "") -> ServiceRequest:
    raise NotImplementedError


def request_redirect(*, actor: Any, request: ServiceRequest, referral_text: str) -> ServiceRequest:
    raise NotImplementedError
