from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The top of the import order: the synthetic demo installation (`opora demo`) and the
    factories the tests and benchmarks use. It may import every app; no app imports it (tests
    may, for the factories), and `opora prepare` reaches it only through the command's name and
    this config."""

    name = "opora.demo"
    verbose_name = _("Demo data")

    def loaded(self) -> bool:
        """The demo's service and its administrator are in the database."""
        from opora.accounts.models import User
        from opora.core.models import Service
        from opora.demo.management.commands.demo import ADMIN_USERNAME, SERVICE_CODE

        return (
            Service.objects.filter(code=SERVICE_CODE).exists()
            and User.objects.filter(username=ADMIN_USERNAME).exists()
        )
