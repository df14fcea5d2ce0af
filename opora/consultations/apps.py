from django.apps import AppConfig


class ConsultationsConfig(AppConfig):
    name = "opora.consultations"
    verbose_name = "Opora: consultation rooms"
