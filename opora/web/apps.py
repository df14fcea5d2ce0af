from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "opora.web"
    verbose_name = _("Staff screens")

    def ready(self) -> None:
        # The journals may not import the events (the same rank): the screens, above both, hand
        # the events' rows to the journals' registry.
        from opora.events.selectors import participants_rows, services_rows
        from opora.journals import sources

        sources.register_rows(sources.PARTICIPANTS, participants_rows)
        sources.register_rows(sources.EVENT_SERVICES, services_rows)
