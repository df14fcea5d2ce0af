"""What a member of staff sees after too many wrong passwords (django-axes' lock-out response)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


def locked_out(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """429 with the pause named, in the reader's language (`AXES_LOCKOUT_CALLABLE`)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = TemplateResponse(
        request, "accounts/locked_out.html", {"minutes": minutes}, status=429
    )
    return response.render()
