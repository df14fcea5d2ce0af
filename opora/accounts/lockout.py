"""What a member of staff sees after too many wrong passwords (django-axes' lock-out response)."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone


def locked_out(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """429 with the pause named, in the reader's language (`AXES_LOCKOUT_CALLABLE`)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = TemplateResponse(
        request, "accounts/locked_out.html", {"minutes": minutes}, status=429
    )
    return response.render()


def _recent(**filters: str) -> int:
    """Wrong passwords still within the cool-off, summed over axes' rows matching `filters`
    (axes deletes the rows older than the cool-off before it asks for the limit)."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    total = AccessAttempt.objects.filter(attempt_time__gte=since, **filters).aggregate(
        n=Sum("failures_since_start")
    )["n"]
    return int(total or 0)


def failure_limit(request: HttpRequest, credentials: dict | None = None) -> int:
    """`AXES_FAILURE_LIMIT`: axes counts one account from one address against the returned
    limit (`OPORA_SIGNIN_LIMIT_ACCOUNT_ADDRESS`). The account across all addresses
    (`OPORA_SIGNIN_LIMIT_ACCOUNT`) and the address across all accounts
    (`OPORA_SIGNIN_LIMIT_ADDRESS`) are counted here; past either, the limit is 0, which axes reads
    as "paused" for every address or account alike, until the cool-off after the last wrong one."""
    pair_limit = int(settings.OPORA_SIGNIN_LIMIT_ACCOUNT_ADDRESS)
    username = get_client_username(request, credentials)
    address = getattr(request, "axes_ip_address", None)
    if username and _recent(username=username) >= int(settings.OPORA_SIGNIN_LIMIT_ACCOUNT):
        return 0
    if address and _recent(ip_address=address) >= int(settings.OPORA_SIGNIN_LIMIT_ADDRESS):
        return 0
    return pair_limit
