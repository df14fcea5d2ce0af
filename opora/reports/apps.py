from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "opora.reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from opora.reports.rollup import connect_signals

        connect_signals()  # the stored 1411 figures learn which months changed
