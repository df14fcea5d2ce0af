from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JournalsConfig(AppConfig):
    name = "opora.journals"
    verbose_name = _("Journals and reports")

    def ready(self) -> None:
        from opora.journals.rollups import connect_signals

        connect_signals()  # the dashboards' roll-up learns which days changed
