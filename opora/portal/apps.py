from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "opora.portal"
    verbose_name = "Opora: public portal"
