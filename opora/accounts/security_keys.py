"""Security keys and passkeys (WebAuthn) for staff: an optional second factor beside the app's code.

A member of staff with a confirmed authenticator app adds one or more keys on their account page
(a name; the browser asks the key); at sign-in the code page then offers "use your security key"
beside the code field (codes and recovery codes keep working). The server side is py_webauthn
(Duo Labs): options and verification; the browser side is `accounts/security_keys.js`
(`navigator.credentials.create/get`, base64url over JSON).

- The relying party is the public address: `OPORA_WEBAUTHN_RP_ID` (a registrable domain the
  address belongs to), else the host of `OPORA_PUBLIC_URL`; the origin the browser reports must be
  `OPORA_PUBLIC_URL`'s scheme, host and port.
- Each ceremony's challenge lives in the session, for one purpose, for `CHALLENGE_SECONDS`, and is
  taken (removed) by the first answer, right or wrong.
- A key whose signature counter does not grow is refused (a cloned key), as is an answer for
  someone else's key, and each failure counts as a wrong code (django-otp's growing pause on every
  device of the member); the member sees the same vague message as after a wrong code.
- Added, removed, used and failed keys are audited: the key's number and a reason word only, never
  key material or the browser's answer.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.models import ThrottlingMixin
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from opora.accounts import two_factor
from opora.accounts.models import User, WebAuthnCredential
from opora.core.audit import AuditEventType, audit_record
from opora.core.inputs import has_control_chars

CHALLENGE_KEY = "opora_webauthn"
CHALLENGE_SECONDS = 300
TIMEOUT_MS = 120_000
RP_NAME = "Opora"
_TRANSPORTS = frozenset(t.value for t in AuthenticatorTransport)
# What the browser sends is small (a few kilobytes); anything larger is not an answer.
_MAX_BODY = 64 * 1024


class SecurityKeyError(Exception):
    """A ceremony that did not succeed: `message` for the member, `reason` for the audit."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(reason)
        self.message = message
        self.reason = reason


# --- the relying party -------------------------------------------------------------------------


def expected_origin() -> str:
    """`OPORA_PUBLIC_URL`'s scheme, host and port: where the browser must have run the ceremony."""
    parts = urlsplit(str(settings.OPORA_PUBLIC_URL))
    return f"{parts.scheme}://{parts.netloc}"


def rp_id() -> str:
    """`OPORA_WEBAUTHN_RP_ID`, else the host of `OPORA_PUBLIC_URL` (keys are bound to it: changing
    it later makes every added key unusable)."""
    configured = str(getattr(settings, "OPORA_WEBAUTHN_RP_ID", "") or "").strip()
    return configured or (urlsplit(str(settings.OPORA_PUBLIC_URL)).hostname or "localhost")


# --- the challenge in the session --------------------------------------------------------------


def _challenge_keep(session: Any, purpose: str, challenge: bytes, **extra: Any) -> None:
    session[CHALLENGE_KEY] = {
        "purpose": purpose,
        "challenge": bytes_to_base64url(challenge),
        "expires": time.time() + CHALLENGE_SECONDS,
        **extra,
    }


def _challenge_take(session: Any, purpose: str) -> dict[str, Any] | None:
    """The session's challenge for `purpose`, removed (single use); None if none or expired."""
    kept = session.pop(CHALLENGE_KEY, None)
    if not isinstance(kept, dict) or kept.get("purpose") != purpose:
        return None
    if not isinstance(kept.get("expires"), int | float) or kept["expires"] < time.time():
        return None
    return kept


def _descriptor(key: WebAuthnCredential) -> PublicKeyCredentialDescriptor:
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(key.credential_id),
        transports=[AuthenticatorTransport(t) for t in key.transports if t in _TRANSPORTS],
    )


def _transports(credential: Any) -> list[str]:
    response = credential.get("response") if isinstance(credential, dict) else None
    listed = response.get("transports") if isinstance(response, dict) else None
    if not isinstance(listed, list):
        return []
    return sorted({t for t in listed if isinstance(t, str) and t in _TRANSPORTS})


# --- selectors ---------------------------------------------------------------------------------


def security_keys_of(user: User) -> list[WebAuthnCredential]:
    """The member's own keys, oldest first (the account page and the sign-in options)."""
    return list(WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("pk"))


def has_security_key(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    )


# --- registration ------------------------------------------------------------------------------


def security_key_registration_options(*, actor: User, session: Any, name: str) -> dict[str, Any]:
    """Options for `navigator.credentials.create()`; the challenge (and the name the member gave
    the key) wait in the session for the answer."""
    options = generate_registration_options(
        rp_id=rp_id(),
        rp_name=RP_NAME,
        user_name=actor.get_username(),
        user_display_name=actor.get_username(),
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[_descriptor(k) for k in security_keys_of(actor)],
    )
    _challenge_keep(session, "register", options.challenge, name=name)
    result: dict[str, Any] = json.loads(options_to_json(options))
    return result


def _failed(actor: User, reason: str) -> None:
    audit_record(
        actor=actor,
        event_type=AuditEventType.AUTH_WEBAUTHN_FAILED,
        subject=actor,
        extra={"reason": reason},
    )


def security_key_register(*, actor: User, session: Any, credential: Any) -> WebAuthnCredential:
    """Check the browser's answer to the registration options and keep the key's public part.
    Raises `SecurityKeyError` (audited) when the answer does not hold."""
    kept = _challenge_take(session, "register")
    if kept is None:
        _failed(actor, "challenge")
        raise SecurityKeyError(
            gettext("The time to add the key has run out. Try again."), "challenge"
        )
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(kept["challenge"]),
            expected_rp_id=rp_id(),
            expected_origin=expected_origin(),
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        _failed(actor, "registration")
        raise SecurityKeyError(
            gettext("The security key was not added. Try again."), "registration"
        ) from exc
    credential_id = bytes_to_base64url(verified.credential_id)
    if WebAuthnCredential.objects.filter(credential_id=credential_id).exists():
        _failed(actor, "duplicate")
        raise SecurityKeyError(gettext("This security key is already added."), "duplicate")
    return _key_create(
        actor=actor,
        name=str(kept.get("name") or "")[:64] or gettext("Security key"),
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=_transports(credential),
    )


@transaction.atomic
def _key_create(
    *,
    actor: User,
    name: str,
    credential_id: str,
    public_key: bytes,
    sign_count: int,
    transports: list[str],
) -> WebAuthnCredential:
    key = WebAuthnCredential(
        user=actor,
        name=name,
        confirmed=True,
        credential_id=credential_id,
        public_key=public_key,
        sign_count=sign_count,
        transports=transports,
        created_at=timezone.now(),
    )
    key.full_clean()
    key.save()
    audit_record(
        actor=actor,
        event_type=AuditEventType.AUTH_WEBAUTHN_REGISTERED,
        subject=actor,
        extra={"key": key.pk, "transports": transports},
    )
    return key


@transaction.atomic
def security_key_remove(*, actor: User, key_id: int) -> None:
    """Remove one of the actor's own keys (someone else's: `DoesNotExist`)."""
    key = WebAuthnCredential.objects.get(pk=key_id, user=actor)
    key.delete()
    audit_record(
        actor=actor,
        event_type=AuditEventType.AUTH_WEBAUTHN_REMOVED,
        subject=actor,
        extra={"key": key_id},
    )


# --- sign-in -----------------------------------------------------------------------------------


def security_key_sign_in_options(*, user: User, session: Any) -> dict[str, Any]:
    """Options for `navigator.credentials.get()` naming the member's keys."""
    options = generate_authentication_options(
        rp_id=rp_id(),
        timeout=TIMEOUT_MS,
        allow_credentials=[_descriptor(k) for k in security_keys_of(user)],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    _challenge_keep(session, "sign_in", options.challenge)
    result: dict[str, Any] = json.loads(options_to_json(options))
    return result


def _count_as_wrong_code(user: User, reason: str) -> None:
    """A failed key is a wrong code: every throttled device of the member waits longer."""
    for device in devices_for_user(user):
        if isinstance(device, ThrottlingMixin):
            device.throttle_increment()
    _failed(user, reason)


def security_key_verify(*, user: User, session: Any, credential: Any) -> WebAuthnCredential:
    """Check the browser's answer at sign-in: the challenge, the origin, the signature by one of
    the member's own keys, and a signature counter that grew. Raises `SecurityKeyError` (counted
    as a wrong code, audited) otherwise; on success the key's counter and last use are kept."""
    kept = _challenge_take(session, "sign_in")
    if any(not d.verify_is_allowed()[0] for d in devices_for_user(user)):
        _failed(user, "paused")  # as a code during the pause: refused, not counted again
        raise SecurityKeyError("", "paused")
    if kept is None:
        _count_as_wrong_code(user, "challenge")
        raise SecurityKeyError("", "challenge")
    raw_id = credential.get("rawId") if isinstance(credential, dict) else None
    key = (
        WebAuthnCredential.objects.filter(user=user, confirmed=True, credential_id=raw_id).first()
        if isinstance(raw_id, str)
        else None
    )
    if key is None:
        _count_as_wrong_code(user, "unknown_key")
        raise SecurityKeyError("", "unknown_key")
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(kept["challenge"]),
            expected_rp_id=rp_id(),
            expected_origin=expected_origin(),
            credential_public_key=bytes(key.public_key),
            credential_current_sign_count=key.sign_count,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        reason = "sign_count" if "sign count" in str(exc) else "assertion"
        _count_as_wrong_code(user, reason)
        raise SecurityKeyError("", reason) from exc
    # Kept only if no other answer moved the counter meanwhile (no lock needed: the counter is
    # the condition).
    moved = WebAuthnCredential.objects.filter(pk=key.pk, sign_count=key.sign_count).update(
        sign_count=verified.new_sign_count,
        last_used_at=timezone.now(),
        throttling_failure_count=0,
        throttling_failure_timestamp=None,
    )
    if not moved:
        _count_as_wrong_code(user, "sign_count")
        raise SecurityKeyError("", "sign_count")
    audit_record(
        actor=user,
        event_type=AuditEventType.AUTH_WEBAUTHN_USED,
        subject=user,
        extra={"key": key.pk},
    )
    key.refresh_from_db()
    return key


# --- views -------------------------------------------------------------------------------------


class KeyNameForm(forms.Form):
    name = forms.CharField(
        label=_("Name of the key"),
        max_length=64,
        strip=True,
        error_messages={
            "required": _("Name the key, for example “Blue key” or “Work laptop”."),
            "max_length": _("The name is too long: at most 64 characters."),
        },
    )

    def clean_name(self) -> str:
        # A JSON body passes the input boundary's form check: the same rule here.
        name: str = self.cleaned_data["name"]
        if has_control_chars(name):
            raise forms.ValidationError(_("The name has characters that cannot be typed."))
        return name


class PasswordCheckForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        error_messages={"required": _("Enter your password.")},
    )


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _json(request: HttpRequest) -> dict[str, Any]:
    """The JSON object posted by `security_keys.js`; anything else reads as empty (refused)."""
    if request.content_type != "application/json":
        return {}
    try:
        body = request.body
    except RawPostDataException:
        return {}
    if len(body) > _MAX_BODY:
        return {}
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _refused(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"ok": False, "message": message}, status=status)


@require_POST
@login_required
def register_options(request: HttpRequest) -> HttpResponse:
    """JSON: the name of the new key in; the options for `navigator.credentials.create()` out.
    Only beside a confirmed authenticator app (the key stands beside it, never instead)."""
    if not two_factor.has_authenticator(_user(request)):
        return _refused(gettext("Set up the authenticator app first."), status=403)
    form = KeyNameForm(_json(request))
    if not form.is_valid():
        return _refused(" ".join(str(e) for e in form.errors["name"]))
    options = security_key_registration_options(
        actor=_user(request), session=request.session, name=form.cleaned_data["name"]
    )
    return JsonResponse({"ok": True, "options": options})


@require_POST
@login_required
def register(request: HttpRequest) -> HttpResponse:
    """JSON: the browser's answer in; the key kept, or a message saying why not."""
    if not two_factor.has_authenticator(_user(request)):
        return _refused(gettext("Set up the authenticator app first."), status=403)
    try:
        security_key_register(
            actor=_user(request),
            session=request.session,
            credential=_json(request).get("credential"),
        )
    except SecurityKeyError as error:
        return _refused(error.message)
    return JsonResponse({"ok": True, "next": reverse("account")})


@login_required
def remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove one of the member's own keys, after the password is entered again (as a sign-in:
    a wrong one counts towards the sign-in pause)."""
    key = get_object_or_404(WebAuthnCredential, pk=pk, user=_user(request))
    form = PasswordCheckForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        again = authenticate(
            request,
            username=_user(request).get_username(),
            password=form.cleaned_data["password"],
        )
        if again is not None and again.pk == _user(request).pk:
            security_key_remove(actor=_user(request), key_id=key.pk)
            messages.success(request, gettext("The security key has been removed."))
            return redirect("account")
        form.add_error("password", gettext("The password is wrong."))
    return TemplateResponse(
        request, "accounts/security_key_remove.html", {"key": key, "form": form}
    )


@require_POST
@login_required
def sign_in_options(request: HttpRequest) -> HttpResponse:
    """JSON: options for `navigator.credentials.get()` at the code step of sign-in."""
    if not has_security_key(request.user):
        return _refused(gettext("You have no security key. Enter the code from the app."))
    return JsonResponse(
        {
            "ok": True,
            "options": security_key_sign_in_options(user=_user(request), session=request.session),
        }
    )


@require_POST
@login_required
def sign_in(request: HttpRequest) -> HttpResponse:
    """JSON: the browser's answer in; the session verified (as by a code) and where to go next,
    or the message a wrong code gets."""
    user = _user(request)
    data = _json(request)
    try:
        key = security_key_verify(
            user=user, session=request.session, credential=data.get("credential")
        )
    except SecurityKeyError:
        return _refused(two_factor.refusal(devices_for_user(user)))
    otp_login(request, key)
    return JsonResponse({"ok": True, "next": two_factor.safe_next(request, data.get("next"))})
