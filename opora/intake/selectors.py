"""Reads of the intake domain. Each selector returns only what the actor may see."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import CharField, Count, Func, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from opora.accounts.access import require_works_for, sees_every_service
from opora.accounts.actors import Actor
from opora.accounts.models import User
from opora.accounts.policy import Action, can
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import NotFound, PermissionDenied
from opora.core.fields import name_search_q
from opora.core.models import Service
from opora.intake.models import Client, Referral, ServiceKind, ServiceRequest
from opora.registry.names import normalise_name_part

# Staff who work with clients' personal data. Authorities see aggregated reports only.

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

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> Any:
        # SQLite's lower() only knows ASCII: use normalise_name_part itself (registered below).
        return super().as_sql(
            compiler,
            connection,
            function=_SQLITE_FOLD,
            template=template,
            arg_joiner=arg_joiner,
            **extra_context,
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"translate(lower({sql}), %s, %s)", (*params, _FOLD_FROM, _FOLD_TO)


def _fold(value: str | None) -> str | None:
    return None if value is None else normalise_name_part(value)


def _register_sqlite_fold() -> None:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.create_function(_SQLITE_FOLD, 1, _fold, deterministic=True)


def _require_intake(actor: Actor) -> User:
    """The staff member `actor`, if the access policy lets them see clients' personal data."""
    if not (isinstance(actor, User) and can(actor, Action.REQUEST_VIEW)):
        raise PermissionDenied(_("You may not see clients' personal data."))
    return actor


def _visible_requests(actor: Actor) -> QuerySet[ServiceRequest]:
    user = _require_intake(actor)
    qs = ServiceRequest.objects.all()
    if not sees_every_service(user):
        qs = qs.filter(service__in=user.services.all())
    return qs


def client_search(*, actor: Actor, query: str, limit: int = 20) -> list[Client]:
    """Clients known to the actor's services: by IIN (12 digits), by phone (digits), else by name.

    An IIN and a phone are matched whole; a name query matches clients whose names have every
    word of it as the beginning of a word, case-, ё/е- and Kazakh-letter-insensitively (the
    names are encrypted: core.fields.NameTokensField).
    """
    visible = _visible_requests(actor)
    query = " ".join((query or "").split())
    if not query:
        return []
    clients = Client.objects.all()
    if not sees_every_service(actor):
        clients = clients.filter(pk__in=visible.filter(client__isnull=False).values("client_id"))

    digits = re.sub(r"\D", "", query)
    # Names, IINs and phones are encrypted at rest: each search is an exact match of a blind
    # index (core.crypto) — the whole IIN, the whole phone number (its last ten digits), or
    # whole words of the name.
    if _IIN_QUERY.match(query) and len(digits) == 12:
        clients = clients.filter(iin=digits)
    elif _PHONE_QUERY.match(query) and len(digits) >= _MIN_PHONE_DIGITS:
        if len(digits) < 10:
            return []  # a fragment of a number cannot be searched: it is not stored in clear
        clients = clients.filter(Q(phone=digits) | Q(phone_extra=digits))
    else:
        clients = clients.filter(name_search_q(Client, "name_tokens", query))
    recent = visible.order_by("-created_at")
    found = list(
        clients.select_related("region").prefetch_related(Prefetch("requests", queryset=recent))[
            :NAME_SEARCH_CAP
        ]
    )
    found.sort(key=lambda c: (c.last_name.casefold(), c.first_name.casefold(), c.pk))
    return found[:limit]


# The rows a search decrypts at most before sorting them by name (names sort only in clear).
NAME_SEARCH_CAP = 200


def request_get(*, actor: Actor, pk: int) -> ServiceRequest:
    """One request of the actor's services, with its client, child and region; NotFound otherwise."""
    try:
        return (
            _visible_requests(actor)
            .select_related(
                "service", "client", "client__region", "child", "region", "eligibility_check"
            )
            .get(pk=pk)
        )
    except (ServiceRequest.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Request not found.")) from None


def request_get_for_view(*, actor: Actor, pk: Any, via: str) -> ServiceRequest:
    """`request_get` for a page that shows the request's personal data (the operator's request
    page, the API's request read, the admin's change view): the read is audited here, as
    `request.viewed` with who read it and through what (`via`), never the IIN or the name."""
    service_request = request_get(actor=actor, pk=pk)
    audit_record(
        actor=actor,
        event_type=AuditEventType.REQUEST_VIEWED,
        subject=service_request,
        extra={"via": via},
    )
    return service_request


@dataclass(frozen=True)
class ContactDifference:
    """One contact given with a request that the client's card holds otherwise."""

    field: str
    label: str
    on_card: str
    on_request: str


def request_contact_differences(*, request: ServiceRequest) -> list[ContactDifference]:
    """The contacts given with `request` (non-empty) that differ from its client's card.

    The card keeps what staff confirmed; a request from the portal, a letter or a messenger may
    bring other ones, which stay on the request until staff copy them to the card. Reads the
    request the caller already holds (fetched through `request_get`).
    """
    client = request.client
    if client is None:
        return []
    labels = {
        "phone": _("Phone"),
        "phone_extra": _("Additional phone"),
        "email": _("E-mail"),
        "region": _("Region"),
    }
    found = []
    for field, label in labels.items():
        if field == "region":
            given, stored = request.region_id, client.region_id
            shown_given = str(request.region) if request.region is not None else ""
            shown_stored = str(client.region) if client.region is not None else ""
        else:
            given, stored = getattr(request, field), getattr(client, field)
            shown_given, shown_stored = given, stored
        if given and given != stored:
            found.append(ContactDifference(field, label, shown_stored, shown_given))
    return found


def requests_registered_on(*, service: Service, date: dt.date) -> QuerySet[ServiceRequest]:
    """Requests registered on `date`, a calendar day in the service's time zone (the daily hand-off,
    regulation 001 §9). A system read: the caller decides who sees the result."""
    start = dt.datetime.combine(date, dt.time.min, tzinfo=service.tz)
    end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time.min, tzinfo=service.tz)
    return ServiceRequest.objects.filter(
        service=service, created_at__gte=start, created_at__lt=end
    ).order_by("created_at", "pk")


def requests_list(
    *, actor: Actor, service: Service, status: str | None = None
) -> QuerySet[ServiceRequest]:
    """Requests of one service, newest first; PermissionDenied when the actor does not work for it."""
    _require_intake(actor)
    require_works_for(actor, service)
    qs = ServiceRequest.objects.filter(service=service).select_related("client", "region")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-pk")


# --- The operator's queue: every new request from every channel in one list ---------------------


def _require_service_staff(actor: Actor, service: Service, action: Action) -> None:
    if not can(actor, action):
        raise PermissionDenied(_("You may not see this list."))
    require_works_for(actor, service)


def request_queue(
    *, actor: Actor, service: Service, channel: str = "", status: str = ServiceRequest.Status.NEW
) -> QuerySet[ServiceRequest]:
    """Requests of `service` waiting for someone, oldest first (nothing is lost at the bottom).

    `status` "" means every status; `channel` "" every channel.
    """
    _require_service_staff(actor, service, Action.REQUEST_QUEUE)
    qs = ServiceRequest.objects.filter(service=service).select_related("assigned_to", "region")
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    return qs.order_by("created_at", "pk")


# --- The referral directory ----------------------------------------------------------------------


def _require_directory(actor: Actor) -> None:
    if not can(actor, Action.REFERRAL_READ):
        raise PermissionDenied(_("You may not see the referral directory."))


def referral_search(
    *,
    actor: Actor,
    query: str = "",
    country: str = "",
    region: Any = None,
    include_inactive: bool = False,
    limit: int = 50,
) -> list[Referral]:
    """Directory entries whose name or "what they help with" contain every word of `query`
    (case-insensitive, ё = е), of `country` (or with no country), in `region` or country-wide."""
    _require_directory(actor)
    qs = Referral.objects.select_related("region")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if country:
        qs = qs.filter(Q(country=country) | Q(country=""))
    if region is not None:
        qs = qs.filter(Q(region=region) | Q(region__isnull=True))
    words = normalise_name_part(query or "").split()
    if words:
        # SQLite's LIKE folds ASCII only: compare in the folded form names use, in both databases.
        _register_sqlite_fold()
        qs = qs.annotate(_name=FoldedName("name"), _helps=FoldedName("helps_with"))
        for word in words:
            qs = qs.filter(Q(_name__contains=word) | Q(_helps__contains=word))
    return list(qs.order_by("-is_active", "name", "pk")[:limit])


def referral_get(*, actor: Actor, pk: Any) -> Referral:
    _require_directory(actor)
    try:
        return Referral.objects.select_related("region").get(pk=int(pk))
    except (Referral.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("The directory entry was not found.")) from None


# --- Counting (regulation 004) -------------------------------------------------------------------

# Not a service provided: a refusal, a cancelled request, a client who did not come.
NOT_A_SERVICE = (
    ServiceRequest.Status.REFUSED,
    ServiceRequest.Status.CANCELLED,
    ServiceRequest.Status.NO_SHOW,
)


@dataclass(frozen=True)
class ServiceCount:
    requests: int  # every request registered in the period
    content: int  # services of content consulting
    dispatcher: int  # services of dispatcher consulting (referrals)
    counted_together: int  # requests folded into another one (both parents on one question)
    not_services: int  # refused, cancelled or no-show

    @property
    def services(self) -> int:
        return self.content + self.dispatcher


def services_count(*, service: Service, start: dt.datetime, end: dt.datetime) -> ServiceCount:
    """Services of `service` among requests registered in [start, end), by kind (regulation 004).

    Each new request is a new service; requests counted together (both parents on one question)
    count once — the root of the group counts, the others don't, so a group is never counted in
    two periods. A request whose root is not a service (refused, cancelled) counts for itself.
    Refused and cancelled requests are no services. A system read: callers check access.
    """
    qs = ServiceRequest.objects.filter(service=service, created_at__gte=start, created_at__lt=end)
    is_service = ~Q(status__in=NOT_A_SERVICE)
    counts = Q(counted_with__isnull=True) | Q(counted_with__status__in=NOT_A_SERVICE)
    agg = qs.aggregate(
        requests=Count("pk"),
        content=Count("pk", filter=is_service & counts & Q(kind=ServiceKind.CONTENT)),
        dispatcher=Count("pk", filter=is_service & counts & Q(kind=ServiceKind.DISPATCHER)),
        counted_together=Count("pk", filter=is_service & ~counts),
        not_services=Count("pk", filter=~is_service),
    )
    return ServiceCount(**agg)
