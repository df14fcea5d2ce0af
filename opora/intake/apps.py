from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "opora.intake"
    verbose_name = _("Clients and requests")

    def ready(self) -> None:
        from opora.core import retention
        from opora.intake.retention import purge_requests

        retention.register("requests", purge_requests)
