"""The row locks of accounts, in one place (every `select_for_update` of the app is here).

Each function returns a queryset that locks the rows it reads; the caller narrows it (`.get()`,
`.filter()`) inside its own transaction.
"""

from __future__ import annotations

from django.db.models import QuerySet

from opora.accounts.models import ApiToken, User


def api_token_qs_select_for_update() -> QuerySet[ApiToken]:
    return ApiToken.objects.select_for_update()


def user_qs_select_for_update() -> QuerySet[User]:
    return User.objects.select_for_update()
