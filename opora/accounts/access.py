"""Who works for which service: the one check every domain asks before touching a service's data.

Both answers come from the access policy (`opora.accounts.policy`); these names stay for the
callers that do not name an action yet (phase 2 of issue 10 moves them to `policy.require`).
"""

from typing import Any

from django.utils.translation import gettext as _

from opora.accounts.actors import Subject
from opora.accounts.policy import sees_every_service, works_for
from opora.core.errors import PermissionDenied

__all__ = ["require_works_for", "sees_every_service"]


def require_works_for(actor: Subject, service: Any) -> None:
    """PermissionDenied unless `actor` works for `service` (an administrator works for all)."""
    if not works_for(actor, service.pk):
        raise PermissionDenied(
            _("You do not work for the service “%(code)s”.") % {"code": service.code}
        )
