from django.apps import AppConfig


class MessengersConfig(AppConfig):
    name = "opora.messengers"
    verbose_name = "Opora: messengers (Telegram, WhatsApp, Viber, VK)"
