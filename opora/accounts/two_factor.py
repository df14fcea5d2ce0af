"""Staff two-factor sign-in: a one-time code from an authenticator app (TOTP, django-otp).

With `OPORA_STAFF_2FA` on (the default in production) a signed-in member of staff reaches no page
until the session is verified with a code: the first time, the setup page shows the key as a QR
code and as text for the app, and the first code confirms it; later sign-ins ask for a code.
Clients (personal links, the public portal), the API (tokens) and webhooks have no staff session
and are not affected.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import segno
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user, match_token, user_has_device
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from opora.accounts.models import User, WebAuthnCredential
from opora.core.audit import AuditEventType, audit_record

SETUP_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery"
RECOVERY_CODES = 10
RECOVERY_CODE_LENGTH = 8


def required() -> bool:
    return bool(getattr(settings, "OPORA_STAFF_2FA", False))


def may_act(user: Any, session: Any) -> bool:
    """For connections Django's middleware does not see (the room's WebSocket): is this staff
    session signed in as far as `OPORA_STAFF_2FA` asks? As django-otp's middleware decides it:
    the session names a confirmed device of this user."""
    if not required() or not getattr(user, "is_authenticated", False):
        return True
    device_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    device = Device.from_persistent_id(device_id) if device_id else None
    return device is not None and device.user_id == user.pk and device.confirmed


class CodeForm(forms.Form):
    """A 6-digit code from the app, or one of the recovery codes (8 letters and digits)."""

    code = forms.CharField(
        label=_("Code from the app"),
        max_length=12,
        min_length=6,
        strip=True,
        error_messages={
            "required": _("Enter the 6-digit code from the authenticator app."),
            "min_length": _("The code has 6 digits."),
            "max_length": _("The code has 6 digits."),
        },
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "").replace("-", "").lower()
        if code.isdigit() and len(code) == 6:
            return code
        if len(code) == RECOVERY_CODE_LENGTH and code.isalnum():
            return code  # a recovery code (django-otp's static tokens: base32, lower case)
        raise forms.ValidationError(_("The code has 6 digits."))


def refusal(devices: Any) -> str:
    # After a wrong code the device refuses every code for a while (1, 2, 4... seconds).
    if any(not d.verify_is_allowed()[0] for d in devices):
        return str(_("Too many wrong codes. Wait a few seconds and enter the current code."))
    return str(_("This code is wrong or has expired. Enter the current one."))


def _user(request: HttpRequest) -> User:
    """The signed-in staff member of a view behind `login_required`."""
    assert isinstance(request.user, User)
    return request.user


def _to(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def safe_next(request: HttpRequest, target: object) -> str:
    """`target` if it is a page of this site, else the home page (never an outside address)."""
    if isinstance(target, str) and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _next(request: HttpRequest) -> str:
    return safe_next(request, request.POST.get("next") or request.GET.get("next") or "")


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """Ask for a code from the confirmed authenticator."""
    if not user_has_device(request.user):
        return redirect(_to("two_factor_setup", _next(request)))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            audit_record(
                actor=request.user,
                event_type=AuditEventType.AUTH_2FA_VERIFIED,
                subject=_user(request),
                # A recovery code works once: the member knows how many are left on the page.
                extra={"recovery_code": True} if isinstance(device, StaticDevice) else None,
            )
            return HttpResponseRedirect(_next(request))
        form.add_error("code", refusal(devices_for_user(request.user)))
    return TemplateResponse(
        request,
        "accounts/two_factor_verify.html",
        {
            "form": form,
            "next": _next(request),
            # A security key (WebAuthn, accounts.security_keys) may stand in for the code.
            "has_security_key": WebAuthnCredential.objects.filter(
                user=_user(request), confirmed=True
            ).exists(),
        },
    )


@login_required
def setup(request: HttpRequest) -> HttpResponse:
    """Show a new key (QR code and text) and confirm it with the first code."""
    if user_has_device(request.user):
        return redirect(_to("two_factor_verify", _next(request)))
    device, _created = TOTPDevice.objects.get_or_create(
        user=request.user, name=SETUP_DEVICE_NAME, confirmed=False
    )
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            audit_record(
                actor=request.user,
                event_type=AuditEventType.AUTH_2FA_ENABLED,
                subject=_user(request),
            )
            return HttpResponseRedirect(_next(request))
        form.add_error("code", refusal([device]))
    key = device.bin_key
    secret = _base32(key)
    return TemplateResponse(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "next": _next(request),
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "qr_svg": segno.make(device.config_url, error="m").svg_inline(scale=4, omitsize=True),
        },
    )


def _base32(key: bytes) -> str:
    return base64.b32encode(key).decode().rstrip("=")


# Paths a signed-in member of staff may open before the code: signing in and out, these pages,
# static files, the health check and the language switch.
# The API has its own (token) authentication.
_OPEN = (
    "/login/",
    "/logout/",
    "/2fa/",
    "/static/",
    "/healthz",
    "/i18n/",
    "/admin/logout/",
    "/api/",
)


class StaffTwoFactorMiddleware:
    """Sends a signed-in member of staff whose session is not verified to the code page."""

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if (
            required()
            and user is not None
            and user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(_OPEN)
        ):
            target = "two_factor_verify" if user_has_device(user) else "two_factor_setup"
            return redirect(_to(target, request.get_full_path()))
        return self.get_response(request)


# --- recovery codes -----------------------------------------------------------------------------


@transaction.atomic
def recovery_codes_new(*, actor: User) -> list[str]:
    """Ten new one-time recovery codes for `actor` (the old ones stop working); shown once.
    django-otp keeps them as a static device, which `match_token` tries beside the app."""
    StaticDevice.objects.filter(user=actor, name=RECOVERY_DEVICE_NAME).delete()
    device = StaticDevice.objects.create(user=actor, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    audit_record(actor=actor, event_type=AuditEventType.AUTH_RECOVERY_CODES_CREATED, subject=actor)
    return codes


def has_authenticator(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY_DEVICE_NAME).count()


@require_POST
@login_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Make new recovery codes and show them this once (never stored by the browser); only
    beside a confirmed authenticator (they stand in for it, never for setting it up)."""
    if not has_authenticator(_user(request)):
        return redirect("account")
    codes = recovery_codes_new(actor=_user(request))
    return TemplateResponse(
        request,
        "accounts/recovery_codes.html",
        {"codes": [f"{c[:4]}-{c[4:]}" for c in codes]},
    )
