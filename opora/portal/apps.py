from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "opora.portal"
    verbose_name = _("Public portal")

    def ready(self) -> None:
        from opora.core import retention
        from opora.portal.retention import purge_reply_contacts

        retention.register("requests", purge_reply_contacts)
