"""Rate limits shared by every worker: fixed windows counted in Django's cache.

The cache is Redis in production (INCR is atomic) and the database in the embedded default
(settings `CACHES`); either way every worker and every restart sees the same counts. Each limit is
one `Limit` here, so the numbers are read in one place; sign-in has django-axes
(`opora.accounts.lockout`), which counts in the database.

    if limit_hit(PORTAL_FORM, request):
        return too_many_requests(request)
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache as default_cache
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.db import DatabaseCache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Limit:
    """At most `count` hits of `scope` per `window` seconds from one key (an address, a token);
    `OPORA_RATE_LIMITS = {scope: (count, window)}` in the settings overrides the numbers."""

    scope: str
    default_count: int
    default_window: int

    def _numbers(self) -> tuple[int, int]:
        custom = getattr(settings, "OPORA_RATE_LIMITS", {}).get(self.scope)
        return tuple(custom) if custom else (self.default_count, self.default_window)

    @property
    def count(self) -> int:
        return int(self._numbers()[0])

    @property
    def window(self) -> int:
        return int(self._numbers()[1])


# Online IIN checks one address may start per hour: enough for typing mistakes, too few to probe
# the registry.
PORTAL_IIN_CHECK = Limit("portal-iin-check", 10, 3600)
# Requests, anonymous requests, bookings and complaints sent from one address per hour: a family
# or a library computer, never a script.
PORTAL_FORM = Limit("portal-form", 30, 3600)
# Follow-up codes (complaints) tried from one address per hour: a person mistyping, not a guesser.
PORTAL_CODE = Limit("portal-code", 30, 3600)
# API calls per minute of one token, and of one address whatever the token (guessing tokens).
API_TOKEN_CALLS = Limit("api-token", 600, 60)
API_ADDRESS_CALLS = Limit("api-address", 1200, 60)


def client_address(request: HttpRequest) -> str:
    """The address the limits count by (the proxy in front sets REMOTE_ADDR, as for django-axes)."""
    return request.META.get("REMOTE_ADDR") or "-"


def _key(limit: Limit, who: str, window_start: int) -> str:
    # The key never carries what it counts in clear (a token, an address): a digest.
    digest = hashlib.sha256(who.encode()).hexdigest()[:32]
    return f"rl:{limit.scope}:{digest}:{window_start}"


def hit(limit: Limit, who: str, *, cache: BaseCache | None = None, now: float | None = None) -> int:
    """Count one hit of `who` in the current window of `limit`; the count so far, this one in."""
    store = cache if cache is not None else default_cache
    moment = time.time() if now is None else now
    window = limit.window
    start = int(moment // window) * window
    key = _key(limit, who, start)
    # Lives to the end of its window (and a second more, for a clock a little behind).
    ttl = max(1, math.ceil(start + window - moment) + 1)
    # On the database cache this read-and-write is one transaction (SQLite takes the write lock at
    # BEGIN, so two workers queue); on Redis, add and incr are atomic on their own.
    with transaction.atomic() if isinstance(store, DatabaseCache) else contextlib.nullcontext():
        store.add(key, 0, timeout=ttl)
        try:
            return int(store.incr(key))
        except ValueError:  # expired between add and incr
            store.set(key, 1, timeout=ttl)
            return 1


def limit_hit(limit: Limit, request: HttpRequest, *, who: str | None = None) -> bool:
    """Count this request against `limit` (by `who`, or the client's address); True past it."""
    return hit(limit, who or client_address(request)) > limit.count


def retry_after(limit: Limit, *, now: float | None = None) -> int:
    moment = time.time() if now is None else now
    return max(1, math.ceil(limit.window - moment % limit.window))


def message() -> str:
    """What a visitor past a limit reads (a form shows it above its fields, status 429)."""
    return _("Too many requests from this address. Please wait a little and try again.")


def too_many_requests(request: HttpRequest, limit: Limit) -> HttpResponse:
    """429 in the reader's language: JSON under /api/, a page elsewhere; `Retry-After` set."""
    text = message()
    if request.path_info.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": text, "code": "rate_limited"}, status=429)
    else:
        response = render(request, "429.html", {"message": text}, status=429)
    response["Retry-After"] = str(retry_after(limit))
    return response
