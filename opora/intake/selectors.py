"""Reads of the intake domain. Each selector returns only what the actor may see."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import connection
from django.db.models import CharField, Func, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from opora.accounts.models import Role
from opora.core.errors import NotFound, PermissionDenied
from opora.intake.models import Client, ServiceRequest
from opora.registry.names import normalise_name_part

# Staff who work with clients' personal data. Authorities see aggregated reports only.
INTAKE_ROLES = (Role.OPERATOR, Role.COORDINATOR, Role.HEAD, Role.ADMIN)

_IIN_QUERY = re.compile(r"^[\d\s-]+$")
_PHONE_QUERY = re.compile(r"^\+?[\d\s().-]+$")
_MIN_PHONE_DIGITS = 5

# The letters normalise_name_part folds (ё→е, Kazakh → Russian), taken from it so the two agree.
_FOLD_FROM = "ёәғқңөұүһі"
_FOLD_TO = "".join(normalise_name_part(c) for c in _FOLD_FROM)
_SQLITE_FOLD = "opora_fold_name"


class FoldedName(Func):
    """A name column in the comparable form of names.normalise_name_part (case, ё/е, Kazakh)."""

    output_field = CharField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # SQLite's lower() only knows ASCII: use normalise_name_part itself (registered below).
        return super().as_sql(compiler, connection, function=_SQLITE_FOLD, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"translate(lower({sql}), %s, %s)", (*params, _FOLD_FROM, _FOLD_TO)


def _fold(value: str | None) -> str | None:
    return None if value is None else normalise_name_part(value)


def _register_sqlite_fold() -> None:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.create_function(_SQLITE_FOLD, 1, _fold, deterministic=True)


def _sees_everything(actor: Any) -> bool:
    return bool(actor.is_superuser or actor.role == Role.ADMIN)


def _require_intake(actor: Any) -> None:
    if not (actor and actor.is_authenticated and actor.is_active) or not (
        actor.is_superuser or actor.role in INTAKE_ROLES
    ):
        raise PermissionDenied(_("You may not see clients' personal data."))


def _visible_requests(actor: Any) -> QuerySet[ServiceRequest]:
    _require_intake(actor)
    qs = ServiceRequest.objects.all()
    if not _sees_everything(actor):
        qs = qs.filter(service__in=actor.services.all())
    return qs


def client_search(*, actor: Any, query: str, limit: int = 20) -> list[Client]:
    """Clients known to the actor's services: by IIN (12 digits), by phone (digits), else by name.

    A name query is "last name [first name]" matched case-, ё/е- and Kazakh-letter-insensitively:
    the last name contains the first word, the first name starts with the second.
    """
    visible = _visible_requests(actor)
    query = " ".join((query or "").split())
    if not query:
        return []
    clients = Client.objects.all()
    if not _sees_everything(actor):
        clients = clients.filter(pk__in=visible.filter(client__isnull=False).values("client_id"))

    digits = re.sub(r"\D", "", query)
    if _IIN_QUERY.match(query) and len(digits) == 12:
        clients = clients.filter(iin=digits)
    elif _PHONE_QUERY.match(query) and len(digits) >= _MIN_PHONE_DIGITS:
        # Phones are stored normalised ("+77011234567"), callers say "8 701 …": a full number
        # is compared by its last ten digits, a fragment anywhere.
        if len(digits) >= 10:
            tail = digits[-10:]
            clients = clients.filter(Q(phone__endswith=tail) | Q(phone_extra__endswith=tail))
        else:
            clients = clients.filter(Q(phone__contains=digits) | Q(phone_extra__contains=digits))
    else:
        words = normalise_name_part(query).split()
        _register_sqlite_fold()
        clients = clients.annotate(_last=FoldedName("last_name")).filter(_last__contains=words[0])
        if len(words) > 1:
            clients = clients.annotate(_first=FoldedName("first_name")).filter(
                _first__startswith=words[1]
            )
    recent = visible.order_by("-created_at")
    return list(
        clients.select_related("region")
        .prefetch_related(Prefetch("requests", queryset=recent))
        .order_by("last_name", "first_name", "pk")[:limit]
    )


def request_get(*, actor: Any, pk: int) -> ServiceRequest:
    """One request of the actor's services, with its client, child and region; NotFound otherwise."""
    try:
        return (
            _visible_requests(actor)
            .select_related("service", "client", "child", "region", "eligibility_check")
            .get(pk=pk)
        )
    except (ServiceRequest.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Request not found.")) from None


def requests_registered_on(*, service: Any, date: dt.date) -> QuerySet[ServiceRequest]:
    """Requests registered on `date`, a calendar day in the service's time zone (the daily hand-off,
    regulation 001 §9). A system read: the caller decides who sees the result."""
    start = dt.datetime.combine(date, dt.time.min, tzinfo=service.tz)
    end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time.min, tzinfo=service.tz)
    return ServiceRequest.objects.filter(
        service=service, created_at__gte=start, created_at__lt=end
    ).order_by("created_at", "pk")


def requests_list(
    *, actor: Any, service: Any, status: str | None = None
) -> QuerySet[ServiceRequest]:
    """Requests of one service, newest first; PermissionDenied when the actor does not work for it."""
    _require_intake(actor)
    if not _sees_everything(actor) and not actor.services.filter(pk=service.pk).exists():
        raise PermissionDenied(
            _("You do not work for the service “%(code)s”.") % {"code": service.code}
        )
    qs = ServiceRequest.objects.filter(service=service).select_related("client", "region")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-pk")
