from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "opora.quality"
    verbose_name = _("Quality evaluation")

    def ready(self) -> None:
        from opora.core import retention
        from opora.quality.retention import purge_evaluation_texts

        retention.register("requests", purge_evaluation_texts)
