"""HTTP helpers shared by the apps' views."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template import loader
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from opora.core.inputs import (
    MAX_ID,
    InvalidInput,
    check_form,
    check_path,
    check_query,
    has_control_chars,
    strip_control_chars,
)

logger = logging.getLogger(__name__)


def _next_chunk(chunks: Iterator[bytes]) -> bytes | None:
    """The next chunk, or None at the end (a chunk is bytes, never None)."""
    return next(chunks, None)


def streaming_response(
    request: HttpRequest, chunks: Iterator[bytes], **kwargs: Any
) -> StreamingHttpResponse:
    """A streamed download of `chunks` (blocking work such as reading and decrypting files).

    Served through ASGI (uvicorn, as in production), Django would read a plain iterator to the end
    into memory before sending a byte; here each chunk is produced in a worker thread and sent as
    it comes, so a large recording never sits whole in the server's memory. Under WSGI (the test
    client) the iterator is streamed as it is.
    """
    if not isinstance(request, ASGIRequest):
        return StreamingHttpResponse(chunks, **kwargs)
    produce = sync_to_async(_next_chunk, thread_sensitive=False)

    async def each() -> AsyncIterator[bytes]:
        while (chunk := await produce(chunks)) is not None:
            yield chunk

    return StreamingHttpResponse(each(), **kwargs)


# --- the input boundary ----------------------------------------------------------------------------

# Request headers that reach the database (django-axes stores them with a failed sign-in).
_STORED_HEADERS = ("HTTP_USER_AGENT", "HTTP_ACCEPT")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def bad_input_response(request: HttpRequest, error: InvalidInput) -> HttpResponse:
    """400 with the message: the API's JSON error under /api/, a page everywhere else."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": str(error.message), "code": error.code}, status=400)
    response = render(request, "400.html", {"message": error.message}, status=400)
    if request.headers.get("HX-Request"):
        # htmx does not swap a 400 into the page: opora.js reads the message from here.
        response["X-Opora-Message"] = quote(str(error.message), safe="")
    return response


class InputBoundaryMiddleware:
    """One check of everything that comes from outside, before any view or query sees it.

    - the path and the query string: no control characters (a NUL reaches PostgreSQL as a
      `DataError`), query values of a sane length;
    - submitted form fields: no control characters but tab and line breaks;
    - a number in the path beyond PostgreSQL's bigint names no record: 404;
    - cookies and stored headers with control characters are dropped or cleaned, not refused
      (a visitor cannot fix their browser's cookie);
    - `InvalidInput` raised by a view (dates out of range: `opora.core.inputs`) and a `DataError`
      that slipped through become the same 400 page.

    Placed right after WhiteNoise, so the session and authentication never see a bad cookie; its
    own page is rendered in the visitor's language.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self._clean_cookies_and_headers(request)
        try:
            check_path(request.path_info)
            check_query(request.GET.lists())
        except InvalidInput:
            # LocaleMiddleware has not run yet: answer in the visitor's language all the same.
            with translation.override(translation.get_language_from_request(request)):
                try:
                    check_path(request.path_info)
                    check_query(request.GET.lists())
                except InvalidInput as error:
                    return bad_input_response(request, error)
        return self.get_response(request)

    @staticmethod
    def _clean_cookies_and_headers(request: HttpRequest) -> None:
        for name, value in list(request.COOKIES.items()):
            if has_control_chars(name) or has_control_chars(value):
                del request.COOKIES[name]
        for header in _STORED_HEADERS:
            header_value = request.META.get(header)
            if isinstance(header_value, str) and has_control_chars(header_value):
                request.META[header] = strip_control_chars(header_value, multiline=False)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        for value in (*view_args, *view_kwargs.values()):
            if isinstance(value, int) and value > MAX_ID:
                raise Http404
        if request.method == "POST" and request.content_type in _FORM_TYPES:
            # A view that reads its own body (webhooks are csrf-exempt) keeps it unread.
            if request.content_type == "multipart/form-data" and getattr(
                view_func, "csrf_exempt", False
            ):
                return None
            try:
                check_form(request.POST.lists())
            except InvalidInput as error:
                return bad_input_response(request, error)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, InvalidInput):
            return bad_input_response(request, exception)
        if isinstance(exception, DataError):
            # The database refused a value the checks let through: bad input, not a server fault.
            # The value itself is never logged (it may be personal data).
            logger.warning("Input refused by the database on %s", request.path_info[:200])
            return bad_input_response(
                request,
                InvalidInput(
                    _(
                        "The request contains a value that cannot be stored, such as a NUL "
                        "character or a number out of range; check the data and try again."
                    ),
                    code="bad_data",
                ),
            )
        return None


# --- error pages -----------------------------------------------------------------------------------

_LOOPBACK = frozenset({"127.0.0.1", "::1"})


class NoSettingsExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's error report without the settings, and with every variable whose name mentions a
    URL or DSN hidden as well (DATABASE_URL, REDIS_URL carry passwords; under runserver they
    reach the report through the request's environment)."""

    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|URL|DSN", flags=re.IGNORECASE
    )

    def get_safe_settings(self) -> dict[str, Any]:
        return {}


class LocalOnlyExceptionReporter(ExceptionReporter):
    """With DEBUG on, Django's error page is for the developer at this machine only: a request
    from any other address gets the ordinary 500 page."""

    def _for_developer(self) -> bool:
        return self.request is None or self.request.META.get("REMOTE_ADDR") in _LOOPBACK

    def get_traceback_html(self) -> SafeString:
        if self._for_developer():
            return super().get_traceback_html()
        # A rendered template: its variables are escaped already, as Django's own page is.
        return SafeString(loader.render_to_string("500.html"))

    def get_traceback_text(self) -> SafeString:
        if self._for_developer():
            return super().get_traceback_text()
        return SafeString("Server error.")


# --- security headers --------------------------------------------------------------------------------

# No page has inline script or style (not even a `style` attribute): every script and stylesheet is
# a file under /static/, and page data travels in `json_script` blocks (data, never executed). So the
# policy needs neither nonces nor 'unsafe-inline'; `element.style` from our scripts (CSSOM) is
# allowed by it. htmx's own indicator <style> is switched off (the htmx-config meta in base.html).
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'; frame-src 'none'; worker-src 'self'; "
    "manifest-src 'self'"
)
# Django's admin (change lists) writes a <style> block into the page: only there are inline
# styles allowed; its scripts are files like ours.
_CSP_ADMIN = _CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
_FEATURES_OFF = (
    "accelerometer=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "payment=(), usb=()"
)
# Only the room and its device check may ask for the camera and the microphone.
PERMISSIONS_DEFAULT = f"camera=(), microphone=(), {_FEATURES_OFF}"
PERMISSIONS_MEDIA = f"camera=(self), microphone=(self), {_FEATURES_OFF}"
MEDIA_VIEWS = frozenset(
    {
        "consultations:device_check",
        "consultations:client_room",
        "consultations:consultant_room",
        # The consultant's preparation (§4.2 of regulation 002) checks the camera and microphone.
        "consultations:preparation",
        "consultations:preparation_for_booking",
        # The group rooms of events: the presenter and the participants who may speak.
        "events:room",
        "events:staff_room",
    }
)
# A client's pages behind a private link (request, room, questionnaire, short link): bearer
# secrets and personal data, never stored by a browser or a proxy.
PRIVATE_PREFIXES = ("/c/", "/q/", "/s/r/", "/l/")


def content_security_policy(request: HttpRequest) -> str:
    """The policy of this request's page; WebSockets to this host are named for the room."""
    policy = _CSP_ADMIN if request.path_info.startswith("/admin/") else _CSP
    host = request.get_host()
    sockets = f"wss://{host}" if request.is_secure() else f"ws://{host} wss://{host}"
    return f"{policy}; connect-src 'self' {sockets}{_janus_origin()}"


def _janus_origin() -> str:
    """The group rooms' SFUs (events: the browser talks to Janus's API directly), when configured:
    `OPORA_JANUS_PUBLIC_URLS` / `OPORA_JANUS_URLS` (several instances), else
    `OPORA_JANUS_PUBLIC_URL`, else `OPORA_JANUS_URL` — read per request, as the events app does."""
    names = (
        "OPORA_JANUS_PUBLIC_URLS",
        "OPORA_JANUS_URLS",
        "OPORA_JANUS_PUBLIC_URL",
        "OPORA_JANUS_URL",
    )
    value = next((os.environ[n] for n in names if os.environ.get(n, "").strip()), "")
    origins = ""
    for url in value.split(","):
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            continue
        socket = "wss" if parts.scheme == "https" else "ws"
        origins += f" {parts.scheme}://{parts.netloc} {socket}://{parts.netloc}"
    return origins


def _is_staff_session(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and getattr(user, "is_authenticated", False))


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response, and `no-store` on every
    page of a signed-in member of staff and on a client's private pages (docs/ARCHITECTURE.md,
    "Security headers"). Placed right after Django's SecurityMiddleware, so even the input
    boundary's 400 page carries them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", content_security_policy(request))
        match = getattr(request, "resolver_match", None)
        media = match is not None and match.view_name in MEDIA_VIEWS
        response["Permissions-Policy"] = PERMISSIONS_MEDIA if media else PERMISSIONS_DEFAULT
        if _is_staff_session(request) or request.path_info.startswith(PRIVATE_PREFIXES):
            if "no-store" not in response.get("Cache-Control", ""):
                patch_cache_control(response, no_store=True)
        return response


class ApiRateLimitMiddleware:
    """Limits `/api/` calls per token and per address (opora.core.ratelimit), before the token is
    even looked up, so guessing tokens is limited too; 429 with `Retry-After` past either."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            from opora.core import ratelimit

            token = request.headers.get("Authorization", "")
            for limit, who in (
                (ratelimit.API_ADDRESS_CALLS, None),
                (ratelimit.API_TOKEN_CALLS, token),
            ):
                if (who is None or who) and ratelimit.limit_hit(limit, request, who=who):
                    # LocaleMiddleware has not run yet: in the caller's language all the same.
                    with translation.override(translation.get_language_from_request(request)):
                        return ratelimit.too_many_requests(request, limit)
        return self.get_response(request)
