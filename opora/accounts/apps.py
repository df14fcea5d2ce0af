from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "opora.accounts"
    verbose_name = _("Staff and API tokens")

    def ready(self) -> None:
        from opora.accounts import policy
        from opora.core import admin_access

        def admin_check(user: Any, what: str, obj: Any = None) -> bool:
            return policy.can(user, policy.Action.ADMIN_SITE)

        admin_access.install(admin_check)
