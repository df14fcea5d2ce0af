"""The typed actor every service function takes: who is acting, never `Any`.

- a staff member (`User`, also when they act through an API bearer token: the request then
  carries `request.api_token` and acts as the token's user);
- a client through their private link (`ClientActor`);
- Opora itself (`SystemActor`): tasks, pollers, webhooks.
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser

from opora.accounts.models import User
from opora.core.actors import ClientActor, SystemActor

Actor: TypeAlias = User | ClientActor | SystemActor
StaffActor: TypeAlias = User
# Whom the access policy judges: any actor, and also a visitor who has not signed in (a page's
# `request.user`) or nobody at all — both refused by every rule that names a role.
Subject: TypeAlias = Actor | AnonymousUser | None

__all__ = ["Actor", "ClientActor", "StaffActor", "Subject", "SystemActor", "User"]
