from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "opora.mail"
    label = "mail"
    verbose_name = "Opora: e-mail requests and written consultations"
