"""Staff sessions: the idle timeout, "sign out everywhere" and the member's own account page.

A staff session ends after `OPORA_STAFF_IDLE_MINUTES` (30 by default) without a request; every
request counts as activity (the time seen is written at most once a minute), and the consultant's
room, which talks over a WebSocket, keeps it alive with a ping to `session_alive`. The session
row's own expiry follows the same clock, so a WebSocket opened later is refused by the store too.
`OPORA_STAFF_SESSION_HOURS` caps a session however active (12 by default).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from opora.accounts.models import User, WebAuthnCredential
from opora.accounts.two_factor import has_authenticator, recovery_codes_left
from opora.core.audit import AuditEventType, audit_record

SEEN_KEY = "opora_seen"
SINCE_KEY = "opora_since"
# The time seen is written at most this often (seconds): not a session write on every request.
_SEEN_EVERY = 60
_STORE_GRACE = 2 * _SEEN_EVERY


def idle_seconds() -> int:
    return int(getattr(settings, "OPORA_STAFF_IDLE_MINUTES", 30)) * 60


def max_seconds() -> int:
    return int(getattr(settings, "OPORA_STAFF_SESSION_HOURS", 12)) * 3600


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


class StaffIdleTimeoutMiddleware:
    """Signs out a member of staff idle for longer than `OPORA_STAFF_IDLE_MINUTES`, and sends them
    to the sign-in page (htmx: a full-page redirect) with the page they asked for as `next`."""

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = timezone.now().timestamp()
            seen = request.session.get(SEEN_KEY)
            since = request.session.get(SINCE_KEY, now)
            if isinstance(seen, int | float) and (
                now - seen > idle_seconds() or now - since > max_seconds()
            ):
                audit_record(
                    actor=user, event_type=AuditEventType.AUTH_SESSION_IDLE_ENDED, subject=user
                )
                logout(request)
                return self._to_sign_in(request)
            if not isinstance(seen, int | float) or now - seen >= _SEEN_EVERY:
                request.session[SEEN_KEY] = now
                request.session.setdefault(SINCE_KEY, now)
                # The store's own expiry follows the idle clock (the WebSocket asks the store), a
                # little later, so that this check (audited, with its message) comes first.
                request.session.set_expiry(idle_seconds() + _STORE_GRACE)
        return self.get_response(request)

    @staticmethod
    def _to_sign_in(request: HttpRequest) -> HttpResponse:
        messages.info(request, _("You were signed out after a period without activity."))
        target = reverse(settings.LOGIN_URL)
        if request.method == "GET" and not request.path_info.startswith("/api/"):
            target += "?" + urlencode({"next": request.get_full_path()})
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)


def sessions_end_for(*, user: User, keep: str | None = None) -> int:
    """Delete every stored session of `user` (but `keep`); returns how many. The sessions table
    also holds the portal's anonymous drafts: each row is decoded to find the user's own."""
    mine: list[str] = []
    live = Session.objects.filter(expire_date__gt=timezone.now()).only(
        "session_key", "session_data"
    )
    for row in live.iterator(chunk_size=500):
        if row.session_key != keep and row.get_decoded().get("_auth_user_id") == str(user.pk):
            mine.append(row.session_key)
    Session.objects.filter(session_key__in=mine).delete()
    return len(mine)


@transaction.atomic
def user_sign_out_everywhere(*, actor: User, request: HttpRequest) -> int:
    """End every session of `actor`, this one included; audited with the count."""
    ended = sessions_end_for(user=actor, keep=request.session.session_key)
    audit_record(
        actor=actor,
        event_type=AuditEventType.AUTH_SIGNED_OUT_EVERYWHERE,
        subject=actor,
        extra={"other_sessions": ended},
    )
    logout(request)
    return ended


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The member's own account page: who they are, the idle limit, and "sign out everywhere"."""
    return TemplateResponse(
        request,
        "accounts/account.html",
        {
            "idle_minutes": idle_seconds() // 60,
            "recovery_left": recovery_codes_left(_user(request)),
            "has_authenticator": has_authenticator(_user(request)),
            "security_keys": WebAuthnCredential.objects.filter(
                user=_user(request), confirmed=True
            ).order_by("pk"),
        },
    )


@require_POST
@login_required
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    user_sign_out_everywhere(actor=_user(request), request=request)
    messages.success(request, _("You have been signed out on every device."))
    return redirect(settings.LOGIN_URL)


@require_GET
@login_required
def session_alive(request: HttpRequest) -> HttpResponse:
    """The room's ping while a call runs: the idle clock was reset by the middleware."""
    return JsonResponse({"ok": True})
