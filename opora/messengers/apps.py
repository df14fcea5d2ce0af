from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessengersConfig(AppConfig):
    name = "opora.messengers"
    verbose_name = _("Messengers (Telegram, WhatsApp, Viber, VK)")

    def ready(self) -> None:
        # Notices by e-mail/SMS are copied to the client's messenger, and messenger notifications
        # are delivered, through the hooks notifications offers (it imports nothing of ours).
        from opora.events import hooks
        from opora.messengers import announce, notify
        from opora.messengers.models import OutgoingChatMessage
        from opora.messengers.services import chat_send
        from opora.notifications import outbox

        notify.register()
        # Announcements of the service's events go to its messenger subscribers too.
        hooks.register_announcement_fanout(announce.event_announce)
        # Regulation 002's questionnaire in the Telegram chat, through quality's hook.
        from opora.messengers import quality_chat, survey_chat

        quality_chat.register()
        survey_chat.register()

        from opora.core import retention
        from opora.messengers.retention import purge_messages, purge_updates

        retention.register("messenger_messages", purge_messages)
        retention.register("messenger_updates", purge_updates)
        # Chat messages are delivered by the one outbox (notifications.outbox).
        outbox.register(
            OutgoingChatMessage, send=chat_send, select_related=("account", "conversation")
        )
