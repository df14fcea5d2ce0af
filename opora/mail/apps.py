from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "opora.mail"
    label = "mail"
    verbose_name = _("E-mail requests and written consultations")

    def ready(self) -> None:
        # Written answers are delivered by the one outbox (notifications.outbox).
        from opora.core import retention
        from opora.journals.dashboards import register_sla
        from opora.mail.dashboards import sla_written
        from opora.mail.models import OutgoingLetter
        from opora.mail.retention import purge_letters
        from opora.mail.services import letter_send, letter_sent
        from opora.notifications import outbox

        retention.register("letters", purge_letters)
        register_sla("written", sla_written)  # the written answers' SLA on the dashboards

        outbox.register(
            OutgoingLetter,
            send=letter_send,
            on_sent=letter_sent,
            select_related=("mailbox__service", "request"),
        )
