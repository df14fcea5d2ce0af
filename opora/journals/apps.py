from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JournalsConfig(AppConfig):
    name = "opora.journals"
    verbose_name = _("Journals and reports")
