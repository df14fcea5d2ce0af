"""`opora create_api_token USERNAME [--name NAME]`: issue a bearer token for the REST API."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from opora.accounts.models import User
from opora.accounts.services import api_token_create


class Command(BaseCommand):
    help = (
        "Create an API token for a staff user. The raw token is printed once, as the last line "
        "of the output; only its hash is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The user the token acts as.")
        parser.add_argument("--name", default="", help="A label, e.g. the integration's name.")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(
                _("No user with the username “%(username)s”.") % {"username": username}
            ) from None
        if not user.is_active:
            raise CommandError(
                _("The user “%(username)s” is not active; activate the account first.")
                % {"username": username}
            )
        token, raw = api_token_create(user=user, name=options["name"])
        self.stderr.write(
            _("Token %(prefix)s… created for %(username)s. Store it now: it cannot be shown again.")
            % {"prefix": token.prefix, "username": user.username}
        )
        # The raw token alone on the last line of stdout, so scripts can take `| tail -n 1`.
        self.stdout.write(raw)
