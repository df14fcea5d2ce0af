from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "opora.notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # The first outbox of the one dispatcher; mail and messengers register theirs likewise.
        from opora.notifications import outbox
        from opora.notifications.models import Notification
        from opora.notifications.services import notification_send

        outbox.register(Notification, send=notification_send)

        from opora.core import retention
        from opora.notifications.retention import purge_notifications

        retention.register("notifications", purge_notifications)
