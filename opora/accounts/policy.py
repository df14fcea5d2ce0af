"""The one access policy: may this actor do this to this record?

Every view, API route, WebSocket consumer, admin page and task asks `can` / `require` here; no
other module tests roles. The rules are data (`RULES`), rendered into `docs/SECURITY.md` by
`table_markdown()` (a test checks the document matches; regenerate it with
`python -m opora.accounts.policy`).

A rule names the roles that may take an action and how far a record of the action reaches:

- ``Reach.ANY``      – the role is enough (no record, or a record of no service);
- ``Reach.SERVICE``  – a staff member works for the record's service (an administrator works for
  every service; Opora itself acts for all);
- ``Reach.OWN``      – as SERVICE, and a consultant only on their own record (the booked or the
  responsible consultant); the head and the administrator on every record of the service.

A client (through their private link) acts only on their own request: the record's request is the
link's request. Records are judged by duck typing (`service_id`, `service`, `request`, `booking`,
`slot`, `consultant_id`, `assigned_to_id`), so this module imports no app above `accounts`.

`hidden` rules answer "not found" (404) rather than "forbidden" (403) when the role may take the
action but the record is not the actor's, so a record's existence does not leak across services.
A refusal is logged with the action, the role, the actor's and the record's ids — never a name.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from django.utils.translation import gettext as _

from opora.accounts.actors import Subject, User
from opora.core.actors import ClientActor, SystemActor
from opora.core.errors import NotFound, PermissionDenied

logger = logging.getLogger("opora.access")

# Who acts. The staff roles are `opora.accounts.models.Role` (a test checks they agree); a client
# acts through the private link of their request; the system is Opora itself (tasks, pollers).
OPERATOR = "operator"
COORDINATOR = "coordinator"
CONSULTANT = "consultant"
HEAD = "head"
AUTHORITY = "authority"
ADMIN = "admin"
SECURITY_OFFICER = "security_officer"
CLIENT = "client"
SYSTEM = "system"

STAFF_ROLES = (OPERATOR, COORDINATOR, CONSULTANT, HEAD, AUTHORITY, ADMIN, SECURITY_OFFICER)
# The staff who work on requests (the security officer reads the audit trail and nothing else).
SERVICE_ROLES = (OPERATOR, COORDINATOR, CONSULTANT, HEAD, AUTHORITY, ADMIN)
ALL_ROLES = (*STAFF_ROLES, CLIENT, SYSTEM)


class Reach(enum.Enum):
    ANY = "any"
    SERVICE = "service"
    OWN = "own"


class Action(enum.StrEnum):
    """What an actor may do. The value is the name the table and the logs use."""

    # The staff workplace
    WORKPLACE_USE = "workplace.use"
    # Issue 15: the personal-data breach register
    BREACH_MANAGE = "breach.manage"
    BREACH_VIEW = "breach.view"
    AUTHORITY_VIEW = "authority.view"
    DASHBOARD_VIEW = "dashboard.view"
    ADMIN_SITE = "admin.site"
    # Requests (intake, regulation 001/002)
    REQUEST_QUEUE = "request.queue"
    REQUEST_VIEW = "request.view"
    REQUEST_REGISTER = "request.register"
    REQUEST_EDIT = "request.edit"
    REQUEST_MARK_ANONYMOUS = "request.mark_anonymous"
    REQUEST_SET_TOPIC = "request.set_topic"
    REQUEST_CHILD_HELP = "request.child_help"
    REQUEST_BOOK = "request.book"
    REQUEST_COUNT = "request.count"
    ELIGIBILITY_CHECK = "eligibility.check"
    INTAKE_API = "intake.api"
    BOOKING_VIEW = "booking.view"
    SLOTS_VIEW = "slots.view"
    REFERRAL_SEND = "referral.send"
    REFERRAL_READ = "referral.read"
    REFERRAL_EDIT = "referral.edit"
    # Schedules and the daily hand-off
    SCHEDULE_PREPARE = "schedule.prepare"
    SCHEDULE_EDIT = "schedule.edit"
    SCHEDULE_APPROVE = "schedule.approve"
    HANDOFF_SEND = "handoff.send"
    RESPONSIBLE_PERSONS = "responsible.persons"
    PLACE_MANAGE = "place.manage"
    # Consultations
    CONSULTATION_DAY = "consultation.day"
    CONSULTATION_CONDUCT = "consultation.conduct"
    CONSULTATION_JOIN = "consultation.join"
    CONSULTATION_REPORT_FAILURE = "consultation.report_failure"
    CONSULTATION_START_NOW = "consultation.start_now"
    CONSULTATION_TAKE_WRITTEN = "consultation.take_written"
    PROTOCOL_WRITE = "protocol.write"
    JOURNAL_VIEW = "journal.view"
    JOURNAL_EXPORT = "journal.export"
    REGISTRY_VIEW = "registry.view"
    RECORDING_MAKE = "recording.make"
    RECORDING_VIEW = "recording.view"
    RECORDING_DOWNLOAD = "recording.download"
    # Written consultations (mail) and messengers
    WRITTEN_VIEW = "written.view"
    WRITTEN_ANSWER = "written.answer"
    WRITTEN_ASSIGN = "written.assign"
    MAIL_QUARANTINE = "mail.quarantine"
    MAILBOX_MANAGE = "mailbox.manage"
    MESSENGER_VIEW = "messenger.view"
    MESSENGER_REPLY = "messenger.reply"
    # Complaints (regulation §17–§19)
    COMPLAINT_FILE = "complaint.file"
    COMPLAINT_REVIEW = "complaint.review"
    COMPLAINT_ASSIGN = "complaint.assign"
    COMPLAINT_AUTHORITY = "complaint.authority"
    COMPLAINT_TAKE = "complaint.take"
    # Quality of consultations (the parents' evaluations)
    QUALITY_RESULTS = "quality.results"
    QUALITY_OWN_RESULTS = "quality.own_results"
    # Questionnaires
    SURVEY_BUILD = "survey.build"
    SURVEY_ASSIGN = "survey.assign"
    SURVEY_RESULTS = "survey.results"
    # Deliveries the outboxes gave up on
    DELIVERY_VIEW = "delivery.view"
    DELIVERY_RETRY = "delivery.retry"
    # The journals (regulations 002–004) beyond `journal.view` / `journal.export`
    JOURNAL_CODED = "journal.coded"
    JOURNAL_SERVICE_COPY = "journal.service_copy"
    # The tamper-evident audit trail (issue 15)
    AUDIT_VIEW = "audit.view"
    # Technical failures (regulation 002 §4.2.1) and the 1411 reports
    FAILURE_DECIDE = "failure.decide"
    REPORT_VIEW = "report.view"
    REPORT_SIGN = "report.sign"
    REPORT_ANSWER = "report.answer"
    # Events: group consultations and webinars (the events app)
    EVENT_RUN = "event.run"
    EVENT_MODERATE = "event.moderate"
    EVENT_ANNOUNCE = "event.announce"
    EVENT_MANAGE = "event.manage"
    EVENT_RECORD = "event.record"


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    reach: Reach
    hidden: bool
    what: str  # one line for docs/SECURITY.md (English, for developers)
    # A client may take the action only where their request's service has this flag on.
    client_needs: str = ""


def _rule(
    roles: tuple[str, ...], reach: Reach, what: str, *, hidden: bool = False, client_needs: str = ""
) -> Rule:
    return Rule(frozenset(roles), reach, hidden, what, client_needs)


INTAKE = (OPERATOR, COORDINATOR, HEAD, ADMIN)
HANDLERS = (OPERATOR, COORDINATOR, CONSULTANT, HEAD, ADMIN)
S, OWN, A = Reach.SERVICE, Reach.OWN, Reach.ANY

# The table. Keep it in the order of `Action`; docs/SECURITY.md is rendered from it.
RULES: dict[Action, Rule] = {
    Action.WORKPLACE_USE: _rule(HANDLERS, S, "work on the staff screens of a service (switch)"),
    Action.BREACH_MANAGE: _rule(
        (SECURITY_OFFICER,), A, "the breach register: register, update, record notices sent"
    ),
    Action.BREACH_VIEW: _rule(
        (SECURITY_OFFICER, HEAD), A, "the breach register and its deadlines, read-only"
    ),
    Action.AUTHORITY_VIEW: _rule((AUTHORITY, ADMIN), A, "the authority's aggregate page"),
    Action.DASHBOARD_VIEW: _rule(
        (COORDINATOR, HEAD, AUTHORITY, ADMIN),
        A,
        "the dashboards: aggregates of the actor's services (the authority: supervised, no person)",
    ),
    Action.ADMIN_SITE: _rule((ADMIN,), A, "Django's admin pages (view, change, delete)"),
    Action.REQUEST_QUEUE: _rule(
        (OPERATOR, HEAD, ADMIN),
        S,
        "the operator console: every page of it (queue, search, checks, a request)",
        hidden=True,
    ),
    Action.REQUEST_VIEW: _rule(
        INTAKE, S, "see requests and clients' personal data (lists, search)", hidden=True
    ),
    Action.REQUEST_REGISTER: _rule((*HANDLERS, SYSTEM), S, "register a request (any channel)"),
    Action.REQUEST_EDIT: _rule(INTAKE, S, "copy a request's contacts onto the client's card"),
    Action.REQUEST_MARK_ANONYMOUS: _rule(
        INTAKE,
        S,
        "mark a request anonymous (e-mail, messenger; no client card)",
        hidden=True,
    ),
    Action.REQUEST_SET_TOPIC: _rule(
        INTAKE, S, "set the topic class and language of a request (e-mail, messenger)", hidden=True
    ),
    Action.REQUEST_CHILD_HELP: _rule(
        HANDLERS,
        S,
        "the child needs direct help: scripted explanation and referral (reg. 004; a consultant:"
        " of their consultation)",
        hidden=True,
    ),
    Action.REQUEST_BOOK: _rule(
        (*INTAKE, CLIENT),
        S,
        "book, move or cancel a request's time (a client: where the service allows self-booking)",
        client_needs="allows_self_booking",
    ),
    Action.REQUEST_COUNT: _rule(HANDLERS, S, "count a request with another or separately"),
    Action.ELIGIBILITY_CHECK: _rule(INTAKE, S, "check a caller against the registry"),
    Action.INTAKE_API: _rule(
        INTAKE, S, "the intake API (call-centre software): register, read, book, move, cancel"
    ),
    Action.BOOKING_VIEW: _rule(
        (*INTAKE, CONSULTANT), OWN, "read a booking (a consultant: of their own slots)"
    ),
    Action.SLOTS_VIEW: _rule(SERVICE_ROLES, S, "free slots of a service"),
    Action.REFERRAL_SEND: _rule(HANDLERS, S, "send a client a referral"),
    Action.REFERRAL_READ: _rule(HANDLERS, A, "search the referral directory"),
    Action.REFERRAL_EDIT: _rule((HEAD, ADMIN), A, "change the referral directory"),
    Action.SCHEDULE_PREPARE: _rule(
        (COORDINATOR, ADMIN),
        S,
        "the coordinator's screens: edit, import and submit schedules; the hand-off page",
        hidden=True,
    ),
    Action.SCHEDULE_EDIT: _rule((COORDINATOR, HEAD, ADMIN), S, "change a schedule (services)"),
    Action.SCHEDULE_APPROVE: _rule((HEAD, ADMIN), S, "approve or return a schedule", hidden=True),
    Action.HANDOFF_SEND: _rule(
        (COORDINATOR, HEAD, ADMIN, SYSTEM), S, "send the daily hand-off list"
    ),
    Action.RESPONSIBLE_PERSONS: _rule(
        (COORDINATOR, HEAD, ADMIN), S, "the register of responsible persons (reg. 001 §10)"
    ),
    Action.PLACE_MANAGE: _rule(
        (COORDINATOR, HEAD, ADMIN), S, "rooms and addresses; the form and room of a slot"
    ),
    Action.CONSULTATION_DAY: _rule((CONSULTANT,), S, "the consultant's day"),
    Action.CONSULTATION_CONDUCT: _rule(
        (CONSULTANT,), OWN, "hold a consultation: room, files, no-show, phone"
    ),
    Action.CONSULTATION_JOIN: _rule((CLIENT,), OWN, "the client joins their consultation"),
    Action.CONSULTATION_REPORT_FAILURE: _rule(
        (CONSULTANT, HEAD), OWN, "report a technical failure of a consultation", hidden=True
    ),
    Action.CONSULTATION_START_NOW: _rule(
        (OPERATOR, CONSULTANT, HEAD, ADMIN),
        S,
        "start help now (immediate help, a walk-in)",
        hidden=True,
    ),
    Action.CONSULTATION_TAKE_WRITTEN: _rule(
        (CONSULTANT,),
        S,
        "take up a letter thread or a messenger conversation as a consultation",
        hidden=True,
    ),
    Action.PROTOCOL_WRITE: _rule((CONSULTANT,), OWN, "write the protocol"),
    Action.JOURNAL_VIEW: _rule(
        (CONSULTANT, COORDINATOR, HEAD, ADMIN), OWN, "the journal (a consultant: their own rows)"
    ),
    Action.JOURNAL_EXPORT: _rule(
        (CONSULTANT, COORDINATOR, HEAD, ADMIN), OWN, "export the journal (XLSX)"
    ),
    Action.REGISTRY_VIEW: _rule(
        (CONSULTANT, COORDINATOR, HEAD, ADMIN), OWN, "the request registries (a consultant: own)"
    ),
    Action.RECORDING_MAKE: _rule((CONSULTANT,), OWN, "record a consultation"),
    Action.RECORDING_VIEW: _rule((HEAD, ADMIN), S, "list and open recordings", hidden=True),
    Action.RECORDING_DOWNLOAD: _rule((HEAD, ADMIN), S, "download or hand over a recording"),
    Action.WRITTEN_VIEW: _rule(
        (CONSULTANT, HEAD, ADMIN), S, "read written requests and their letters", hidden=True
    ),
    Action.WRITTEN_ANSWER: _rule(
        (CONSULTANT, HEAD, ADMIN), OWN, "answer a written request (a consultant: responsible)"
    ),
    Action.WRITTEN_ASSIGN: _rule((HEAD, ADMIN), S, "reassign a written request", hidden=True),
    Action.MAIL_QUARANTINE: _rule(
        (OPERATOR, HEAD, ADMIN), S, "see and release quarantined letters", hidden=True
    ),
    Action.MAILBOX_MANAGE: _rule((ADMIN,), A, "configure mailboxes and messenger accounts"),
    Action.MESSENGER_VIEW: _rule(
        (CONSULTANT, HEAD, ADMIN), S, "read messenger conversations", hidden=True
    ),
    Action.MESSENGER_REPLY: _rule((CONSULTANT, HEAD, ADMIN), S, "reply in a messenger"),
    Action.COMPLAINT_FILE: _rule(
        (COORDINATOR, HEAD, ADMIN),
        S,
        "a service's complaints: list, register a letter or a visit, read a case (not about oneself)",
    ),
    Action.COMPLAINT_REVIEW: _rule(
        (COORDINATOR, HEAD, AUTHORITY, ADMIN),
        A,
        "open a complaint's page (the case: its service's staff, its reviewer, the authority)",
    ),
    Action.COMPLAINT_ASSIGN: _rule((HEAD, ADMIN), S, "assign a complaint's reviewer, close it"),
    Action.COMPLAINT_AUTHORITY: _rule(
        (AUTHORITY, ADMIN), A, "the authority's complaints: counts per supervised service"
    ),
    Action.COMPLAINT_TAKE: _rule(
        (AUTHORITY,), A, "take a disputed complaint of a supervised service for review (§19)"
    ),
    Action.QUALITY_RESULTS: _rule((HEAD, ADMIN), S, "the quality results of a service"),
    Action.QUALITY_OWN_RESULTS: _rule((CONSULTANT,), S, "a consultant's own quality results"),
    Action.SURVEY_BUILD: _rule(
        (COORDINATOR, HEAD, ADMIN), A, "list, write and publish questionnaires"
    ),
    Action.SURVEY_ASSIGN: _rule(
        (CONSULTANT, COORDINATOR, HEAD, ADMIN), S, "give a request's client a questionnaire"
    ),
    Action.SURVEY_RESULTS: _rule(
        (CONSULTANT, COORDINATOR, HEAD, ADMIN),
        S,
        "read questionnaire results of a service's clients",
        hidden=True,
    ),
    Action.DELIVERY_VIEW: _rule((HEAD, ADMIN), S, "the deliveries the outboxes gave up on"),
    Action.DELIVERY_RETRY: _rule((HEAD, ADMIN), S, "send a failed delivery again"),
    Action.JOURNAL_CODED: _rule(
        (AUTHORITY,), A, "every service's journals, always coded (no person named; the API)"
    ),
    Action.JOURNAL_SERVICE_COPY: _rule(
        (COORDINATOR, HEAD, ADMIN), S, "the service copy of the journal of services (names)"
    ),
    Action.AUDIT_VIEW: _rule(
        (SECURITY_OFFICER,), A, "the audit trail: view, export, break-glass reads with a reason"
    ),
    Action.FAILURE_DECIDE: _rule(
        (HEAD, ADMIN), S, "the technical failures of a service: accept or reject, the new time"
    ),
    Action.REPORT_VIEW: _rule(
        (COORDINATOR, HEAD, AUTHORITY, ADMIN),
        A,
        "the 1411 reports (record rule: what the actor's organisation sent or received)",
        hidden=True,
    ),
    Action.REPORT_SIGN: _rule(
        (COORDINATOR, HEAD, ADMIN),
        A,
        "draft, sign, send, correct a 1411 report (record rule: of the sending organisation)",
    ),
    Action.REPORT_ANSWER: _rule(
        (COORDINATOR, HEAD, AUTHORITY, ADMIN),
        A,
        "confirm or dispute a received 1411 report (record rule: of the receiving organisation)",
    ),
    Action.EVENT_RUN: _rule(
        (CONSULTANT, COORDINATOR, HEAD, ADMIN),
        S,
        "a service's events: list, page, room; create, register and read attendance by the API",
        hidden=True,
    ),
    Action.EVENT_MODERATE: _rule(
        (HEAD, ADMIN),
        S,
        "the lead's controls on any event (room, notes, certificates); the lead and the "
        "presenters have them on their own event (a record rule of the events app)",
        hidden=True,
    ),
    Action.EVENT_ANNOUNCE: _rule((HEAD, ADMIN), S, "send an event's announcement to subscribers"),
    Action.EVENT_MANAGE: _rule(
        (COORDINATOR, HEAD, ADMIN),
        S,
        "create, edit and cancel a service's events and recurring series on the staff page",
        hidden=True,
    ),
    Action.EVENT_RECORD: _rule(
        (CONSULTANT, COORDINATOR, HEAD, ADMIN),
        S,
        "record an event's room under the service's recording policy: its lead and presenters "
        "(a record rule of the events app), or a member of staff with `event.moderate`",
        hidden=True,
    ),
}


# --- Who the actor is ------------------------------------------------------------------------------


class StaffLike(Protocol):
    pk: Any
    role: str
    is_superuser: bool
    is_active: bool
    is_authenticated: bool


def role_of(actor: Subject) -> str | None:
    """The actor's role in the table, or None (anonymous, inactive, or a user without a role).

    A superuser is an administrator."""
    if actor is None:
        return None
    if isinstance(actor, ClientActor):
        return CLIENT
    if isinstance(actor, SystemActor):
        return SYSTEM
    if not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        return None
    if getattr(actor, "is_superuser", False):
        return ADMIN
    role = getattr(actor, "role", "") or None
    return role if role in STAFF_ROLES else None


def start_role(actor: Subject) -> str | None:
    """The role whose start page a person opens: the role on their row (a superuser with one
    too); a superuser without one, or an administrator, is an administrator."""
    role = role_of(actor)
    own = getattr(actor, "role", "")
    if role == ADMIN and own in STAFF_ROLES:
        return own
    return role


def sees_every_service(actor: Subject) -> bool:
    """An administrator (or a superuser) works for every service; Opora itself acts for all."""
    return role_of(actor) in (ADMIN, SYSTEM)


def works_for(actor: Subject, service_id: int | None) -> bool:
    """Whether a staff actor works for the service `service_id` (administrators: every one)."""
    if sees_every_service(actor):
        return True
    if service_id is None or not isinstance(actor, User):
        return False
    member: bool = actor.services.filter(pk=service_id).exists()
    return member


# --- What the record is (duck typing: this module imports no higher app) -----------------------------


def _first(record: Any, *paths: str) -> Any:
    for path in paths:
        value = record
        for name in path.split("."):
            value = getattr(value, name, None)
            if value is None:
                break
        if value is not None:
            return value
    return None


def service_id_of(record: Any) -> int | None:
    """The service a record belongs to: a service itself, or anything with `service_id`, or one
    of its request / booking / slot / consultation / account / mailbox that has one."""
    if record is None:
        return None
    if type(record).__name__ == "Service":
        pk: int = record.pk
        return pk
    found: int | None = _first(
        record,
        "service_id",
        "request.service_id",
        "slot.service_id",
        "booking.slot.service_id",
        "booking.request.service_id",
        "consultation.booking.slot.service_id",
        "account.service_id",
        "mailbox.service_id",
        "message.mailbox.service_id",
    )
    return found


def consultant_id_of(record: Any) -> int | None:
    """The consultant a record is of: the booked or the responsible one."""
    found: int | None = _first(
        record,
        "consultant_id",
        "assigned_to_id",
        "slot.consultant_id",
        "booking.slot.consultant_id",
        "consultation.booking.slot.consultant_id",
        "request.assigned_to_id",
    )
    return found


def request_id_of(record: Any) -> int | None:
    """The client's request a record is of (a request itself, a booking, a consultation)."""
    if type(record).__name__ == "ServiceRequest":
        pk: int = record.pk
        return pk
    found: int | None = _first(
        record, "request_id", "booking.request_id", "consultation.booking.request_id"
    )
    return found


# --- The questions --------------------------------------------------------------------------------


def _acting_role(actor: Subject, rule: Rule) -> str | None:
    """The role the actor takes `rule`'s action in: a superuser is an administrator, or — for
    an action only other roles take (the consultant's day) — the role on their row."""
    role = role_of(actor)
    if role == ADMIN and ADMIN not in rule.roles and getattr(actor, "is_superuser", False):
        own = getattr(actor, "role", "")
        if own in rule.roles:
            return own
    return role


def _role_may(role: str | None, rule: Rule) -> bool:
    return role is not None and role in rule.roles


def _reaches(actor: Subject, role: str, rule: Rule, record: Any, service: Any) -> bool:
    if role == CLIENT:  # always on a record: their own request
        if not isinstance(actor, ClientActor):
            return False
        if record is None or request_id_of(record) != actor.request_id:
            return False
        if rule.client_needs:  # a feature of the service the client's request is of
            return bool(_first(record, f"service.{rule.client_needs}"))
        return True
    if record is None and service is None:
        return True
    if role in (ADMIN, SYSTEM) or rule.reach is Reach.ANY:
        return True
    service_id = service.pk if service is not None else service_id_of(record)
    if service_id is not None and not works_for(actor, service_id):
        return False
    if rule.reach is Reach.OWN and role == CONSULTANT and record is not None:
        owner = consultant_id_of(record)
        return owner is None or owner == getattr(actor, "pk", None)
    return True


def can(actor: Subject, action: Action, record: Any = None, *, service: Any = None) -> bool:
    """May `actor` take `action` (on `record`, of `service`)? With neither, the role alone
    (a staff page's gate); a client is always judged on a record, their own request."""
    rule = RULES[Action(action)]
    role = _acting_role(actor, rule)
    return _role_may(role, rule) and _reaches(actor, role, rule, record, service)  # type: ignore[arg-type]


def own_only(actor: Subject, action: Action) -> bool:
    """Whether `actor` takes `action` only on their own records (a consultant on an `O` rule):
    the lists and journals then show them their own rows only."""
    rule = RULES[Action(action)]
    role = _acting_role(actor, rule)
    return role == CONSULTANT and rule.reach is Reach.OWN and role in rule.roles


def roles_for(action: Action) -> frozenset[str]:
    return RULES[Action(action)].roles


def _log_refusal(
    actor: Subject, action: Action, role: str | None, record: Any, answer: int
) -> None:
    # Ids and kinds only: never a name, an IIN, a phone or a text.
    logger.warning(
        "access refused: action=%s role=%s actor=%s record=%s:%s answer=%s",
        action.value,
        role or "-",
        getattr(actor, "pk", None) or getattr(actor, "request_id", None) or "-",
        type(record).__name__ if record is not None else "-",
        getattr(record, "pk", None) or "-",
        answer,
    )


def refusal(
    actor: Subject, action: Action, record: Any = None, *, service: Any = None
) -> PermissionDenied | NotFound | None:
    """None when allowed; else the error to raise (logged): 403, or 404 where a record of another
    service or person must not show that it exists."""
    action = Action(action)
    rule = RULES[action]
    role = _acting_role(actor, rule)
    if not _role_may(role, rule):
        _log_refusal(actor, action, role, record, 403)
        return PermissionDenied(_("Your role does not allow this operation."))
    if _reaches(actor, role, rule, record, service):  # type: ignore[arg-type]
        return None
    if rule.hidden:
        _log_refusal(actor, action, role, record, 404)
        return NotFound(_("Not found."))
    _log_refusal(actor, action, role, record, 403)
    of = service if service is not None else _first(record, "service", "request.service")
    if role != CLIENT and of is not None and not works_for(actor, of.pk):
        return PermissionDenied(
            _("You do not work for the service “%(code)s”.") % {"code": getattr(of, "code", "")}
        )
    return PermissionDenied(_("This record is not yours to act on."))


def require(actor: Subject, action: Action, record: Any = None, *, service: Any = None) -> None:
    """Raise PermissionDenied (403) or NotFound (404, hidden rules) unless `can(...)`."""
    error = refusal(actor, action, record, service=service)
    if error is not None:
        raise error


# --- The table in docs/SECURITY.md --------------------------------------------------------------


def table_markdown() -> str:
    """The role × action table of docs/SECURITY.md (between its policy-table markers)."""
    head = ["action", *ALL_ROLES, "404", "what"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for action in Action:
        rule = RULES[action]
        cells = []
        for role in ALL_ROLES:
            if role not in rule.roles:
                cells.append("–")
            elif role in (ADMIN, SYSTEM) or rule.reach is Reach.ANY:
                cells.append("✓")
            elif role == CLIENT:
                cells.append("own")
            elif rule.reach is Reach.OWN and role == CONSULTANT:
                cells.append("O")
            else:
                cells.append("S")
        hidden = "404" if rule.hidden else "403"
        lines.append(f"| `{action.value}` | " + " | ".join(cells) + f" | {hidden} | {rule.what} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m opora.accounts.policy: print the table for the document
    print(table_markdown(), end="")
