from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "opora.scheduling"
    verbose_name = _("Schedules, slots and bookings")

    def ready(self) -> None:
        from opora.core import retention
        from opora.scheduling.retention import purge_booking_texts

        retention.register("requests", purge_booking_texts)
