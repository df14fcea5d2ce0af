from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "opora.notifications"
    verbose_name = "Opora: notifications"
