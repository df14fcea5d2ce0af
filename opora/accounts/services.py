"""Writes of the accounts domain: API tokens for integrations, the service a staff member works in."""

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.accounts import locks
from opora.accounts.access import require_works_for
from opora.accounts.models import ApiToken, User, hash_token
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import PermissionDenied
from opora.core.models import Service

# The audit event of a staff member choosing the service they work in.
SERVICE_CHOSEN = AuditEventType.STAFF_SERVICE_CHOSEN

# How often a token's last use is written: once a minute is precise enough for an audit of idle
# tokens and spares the database a write on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)

TOKEN_PREFIX = "opora_"  # noqa: S105 -- the constant start of ApiToken.generate(), no secret


def _display_prefix(raw: str) -> str:
    """The first characters after the constant "opora_" part: enough to tell tokens apart."""
    return raw.removeprefix(TOKEN_PREFIX)[:8]


@transaction.atomic
def api_token_create(
    *, user: User, name: str = "", actor: User | None = None
) -> tuple[ApiToken, str]:
    """Create a bearer token for `user`; return it with the raw token, which is shown only once.

    Only the SHA-256 of the raw token is stored, so a lost token cannot be recovered, only revoked.
    """
    raw = ApiToken.generate()
    token = ApiToken(user=user, name=name, key_hash=hash_token(raw), prefix=_display_prefix(raw))
    token.full_clean()
    token.save()
    audit_record(
        actor=actor or user,
        event_type=AuditEventType.API_TOKEN_CREATED,
        subject=token,
        extra={"user_id": user.pk, "prefix": token.prefix},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User | None = None) -> ApiToken:
    """Revoke `token` (idempotent: revoking twice keeps the first revocation time)."""
    token = locks.api_token_qs_select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            event_type=AuditEventType.API_TOKEN_REVOKED,
            subject=token,
            extra={"user_id": token.user_id, "prefix": token.prefix},
        )
    return token


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    """The live token for a raw bearer value, or None when unknown, revoked or its user inactive.

    Records the time of use, at most once per LAST_USED_RESOLUTION.
    """
    if not raw or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # A conditional UPDATE: concurrent requests of one token write at most once a minute.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token


@transaction.atomic
def staff_service_choose(
    *, actor: User, service: Service, previous: Service | None = None, via: str = "menu"
) -> User:
    """Make `service` the one `actor` works in from now on (remembered across sign-ins).

    PermissionDenied when the actor does not work for it or it is closed. `previous` is the
    service the actor was working in on this screen (it may differ from the stored choice when
    another browser chose since); `via` says how it was chosen, for the audit: "menu" (the
    header's switcher) or "record" (a record of that service was opened). Choosing the service
    already in use writes nothing.
    """
    if not service.is_active:
        raise PermissionDenied(
            _("The service “%(code)s” is closed.") % {"code": service.code}, code="inactive"
        )
    require_works_for(actor, service)
    user = locks.user_qs_select_for_update().get(pk=actor.pk)
    previous_id = previous.pk if previous is not None else user.current_service_id
    if previous_id == service.pk and user.current_service_id == service.pk:
        return user
    user.current_service = service
    user.save(update_fields=["current_service"])
    actor.current_service = service
    audit_record(
        actor=actor,
        event_type=SERVICE_CHOSEN,
        subject=user,
        extra={"service_id": service.pk, "previous_service_id": previous_id, "via": via},
    )
    return user
