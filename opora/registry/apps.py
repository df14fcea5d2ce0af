from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "opora.registry"
    verbose_name = "Opora: registries (ЦБД, ЦБДИ) and eligibility"
