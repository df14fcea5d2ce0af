"""Who works for which service: the one check every domain asks before touching a service's data."""

from typing import Any

from django.utils.translation import gettext as _

from opora.accounts.models import Role
from opora.core.errors import PermissionDenied


def sees_every_service(actor: Any) -> bool:
    return bool(actor.is_superuser or actor.role == Role.ADMIN)


def require_works_for(actor: Any, service: Any) -> None:
    """PermissionDenied unless `actor` works for `service` (an administrator works for all)."""
    if sees_every_service(actor):
        return
    if not actor.services.filter(pk=service.pk).exists():
        raise PermissionDenied(
            _("You do not work for the service “%(code)s”.") % {"code": service.code}
        )
