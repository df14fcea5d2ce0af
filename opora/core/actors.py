"""Who acts when it is not a staff member: the client through their private link."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser


@dataclass(frozen=True)
class ClientActor:
    """A client acting on their own request through its private link (portal, messenger).

    Not a user: no pk, never authenticated. Services that accept it check that the request is
    this one and that the service's policy lets clients act themselves (e.g. self-booking).
    """

    request_id: int
    channel: str = "portal"
    pk: None = None
    is_authenticated: bool = False
    is_active: bool = True
    is_superuser: bool = False
    role: str = "client"

    def has_role(self, *roles: str) -> bool:
        return False


@dataclass(frozen=True)
class SystemActor:
    """Opora itself acting: a periodic task, the mail poller, a webhook's bot, a data migration.

    `name` says which part (``"scheduler"``, ``"mail.poller"``...) for the audit trail; it holds
    no person and may do only what the access policy lets the system do.
    """

    name: str
    pk: None = None
    is_authenticated: bool = False
    is_active: bool = True
    is_superuser: bool = False
    role: str = "system"

    def has_role(self, *roles: str) -> bool:
        return False


# Who an audit event is by, as the floor sees it (core does not import the accounts app, whose
# `accounts.actors.Actor` is the same union with its concrete `User`): a signed-in user, or
# nobody (an anonymous request, a client, Opora itself, None) — the event then has no actor.
AuditActor: TypeAlias = "AbstractBaseUser | AnonymousUser | ClientActor | SystemActor | None"
