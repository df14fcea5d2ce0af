from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "opora.scheduling"
    verbose_name = "Opora: schedules, slots and bookings"
