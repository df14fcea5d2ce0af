from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultationsConfig(AppConfig):
    name = "opora.consultations"
    verbose_name = _("Consultations, protocols and recordings")

    def ready(self) -> None:
        # A held consultation's booking is not moved or cancelled: scheduling asks through its
        # hook, as it may not import consultations.
        from opora.consultations import guards

        guards.register()

        from opora.consultations.retention import purge_chat, purge_protocols, purge_recordings
        from opora.core import retention

        retention.register("chat", purge_chat)
        retention.register("recordings", purge_recordings)
        retention.register("protocols", purge_protocols)
