from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessengersConfig(AppConfig):
    name = "opora.messengers"
    verbose_name = _("Messengers (Telegram, WhatsApp, Viber, VK)")

    def ready(self) -> None:
        # Notices by e-mail/SMS are copied to the client's messenger, and messenger notifications
        # are delivered, through the hooks notifications offers (it imports nothing of ours).
        from opora.messengers import notify

        notify.register()
