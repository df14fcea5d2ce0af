from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "opora.registry"
    verbose_name = _("Registries (ЦБД, ЦБДИ) and eligibility")
