from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "opora.intake"
    verbose_name = "Opora: clients and requests"
