from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "opora.core"
    verbose_name = "Opora: reference data"
