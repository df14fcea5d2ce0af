from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultationsConfig(AppConfig):
    name = "opora.consultations"
    verbose_name = _("Consultations, protocols and recordings")
