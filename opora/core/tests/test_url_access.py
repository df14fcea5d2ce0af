"""Every URL the resolver knows × every role: the answer the access table says (issue 10).

The URLs come from `get_resolver()` (every include and namespace), never from a hand-kept list: a
new URL without an entry in `ROUTES` fails `test_every_url_has_an_entry` with the line to add.

An entry names the policy action its view asks (`opora.accounts.policy.RULES` says which roles
may take it) and how to build the URL from real records: one of the staff's own service, and —
where the URL names a record — one of ANOTHER service, which a staff member of the first must
not reach (403, or 404 where the rule hides existence). Outcomes:

- ``ok``    the page let the role through: 200, a redirect elsewhere than the login, 400, 405, 409;
- ``403``   forbidden; ``404`` hidden (or no such record); ``401`` the API without a token;
- ``login`` the anonymous visitor is sent to sign in.

The client's private links (the portal's request page, the consultation room) are asked with the
real link (allowed) and with a link that is no one's (404 to everyone).

`expect={role: outcome}` records where a page differs from its action's row today, with the
reason (most are the consultation pages that phase 2 moves onto the policy).

To add a URL: add `"name": Route(Action.X, kwargs)` below — `kwargs` takes the `Records` and
returns the URL's arguments; `other=` the arguments of another service's record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from opora.accounts.models import Role, User
from opora.accounts.policy import RULES, Action, roles_for
from opora.accounts.workplace import SESSION_SERVICE_KEY
from opora.consultations.tests.factories import make_live_consultation
from opora.demo.factories import (
    make_admin,
    make_consultant,
    make_organisation,
    make_service_1411,
    make_user,
)
from opora.intake.models import Referral
from opora.scheduling.models import Place
from opora.scheduling.tests.factories import other_service

ROLES = [
    "anonymous",
    "operator",
    "coordinator",
    "consultant",
    "head",
    "authority",
    "admin",
    "security_officer",
]
MISSING = 999_999  # a record that does not exist: the allowed roles meet 404


@dataclass
class Records:
    service: Any
    other: Any
    consultation: Any
    other_consultation: Any
    referral: Any
    # Records of the later apps (complaints, questionnaires, evaluations): see `records` below.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def request(self) -> Any:
        return self.consultation.booking.request

    @property
    def other_request(self) -> Any:
        return self.other_consultation.booking.request


Kwargs = Callable[[Records], dict[str, Any]]


def none(r: Records) -> dict[str, Any]:
    return {}


@dataclass
class Route:
    action: Action | None  # None: a public page (the portal, a client's private link, a webhook)
    kwargs: Kwargs = none
    other: Kwargs | None = None  # the same URL on a record of another service
    expect: dict[str, str] = field(default_factory=dict)  # where the page differs, with reason
    post: bool = False  # a form address: checked with an empty POST (GET answers 405)
    data: Kwargs = none  # what the POST sends, when empty is not enough to reach the gate
    other_expect: dict[str, str] = field(default_factory=dict)  # the same, on the other record


def req(r: Records) -> dict[str, Any]:
    return {"pk": r.request.pk}


def other_req(r: Records) -> dict[str, Any]:
    return {"pk": r.other_request.pk}


def cons(r: Records) -> dict[str, Any]:
    return {"consultation_id": r.consultation.pk}


def other_cons(r: Records) -> dict[str, Any]:
    return {"consultation_id": r.other_consultation.pk}


def token(r: Records) -> dict[str, Any]:
    return {"token": r.consultation.client_token}


def public_token(r: Records) -> dict[str, Any]:
    return {"token": r.request.public_token}


def not_a_link(r: Records) -> dict[str, Any]:
    """A private link that is no client's: it shows nothing (404) to anyone."""
    return {"token": "no-such-link-0000000000000000000000000000"}


def failure(r: Records) -> dict[str, Any]:
    return {"failure_id": r.extra["failure"].pk}


def other_failure(r: Records) -> dict[str, Any]:
    return {"failure_id": r.extra["other_failure"].pk}


def report(r: Records) -> dict[str, Any]:
    return {"report_id": r.extra["report"].pk}


def other_report(r: Records) -> dict[str, Any]:
    return {"report_id": r.extra["other_report"].pk}


def ev(r: Records) -> dict[str, Any]:
    return {"pk": r.extra["event"].pk}


def other_ev(r: Records) -> dict[str, Any]:
    return {"pk": r.extra["other_event"].pk}


def ev_token(r: Records) -> dict[str, Any]:
    """A participant's private link to the first service's event."""
    return {"token": r.extra["registration"].token}


def code(r: Records) -> dict[str, Any]:
    return {"code": r.service.code}


def code_month(r: Records) -> dict[str, Any]:
    """The service's published schedule of this month (regulation 003 §3.6)."""
    return {"code": r.service.code, "month": timezone.localdate().strftime("%Y-%m")}


def missing(name: str) -> Kwargs:
    return lambda r: {name: MISSING}


def all_(outcome: str, *roles: str) -> dict[str, str]:
    return dict.fromkeys(roles or ROLES[1:], outcome)


STAFF = ROLES[1:]
# The schedule pages have no `service_from`: they look a schedule up in the service one works in,
# so even the administrator meets "not found" for another service's until they switch to it.
CURRENT_ONLY = {"admin": "404"}

Q = Action.REQUEST_QUEUE
ROUTES: dict[str, Route] = {
    # Public: health, sign-in, language, the portal, the client's private links, webhooks
    "healthz": Route(None),
    "set_language": Route(None, post=True),
    "login": Route(None, expect=all_("ok")),
    "logout": Route(None, post=True),
    "two_factor_verify": Route(None, expect={"anonymous": "login"}),
    "two_factor_setup": Route(None, expect={"anonymous": "login"}),
    # The signed-in person's own account (issue 15's hardening): any staff member, their own only.
    "account": Route(None, expect={"anonymous": "login"}),
    "session_alive": Route(None, expect={"anonymous": "login"}),
    # Signs the person out of every session: the answer is the sign-in page for everyone.
    "sign_out_everywhere": Route(None, post=True, expect=all_("login", *ROLES)),
    "recovery_codes": Route(None, post=True, expect={"anonymous": "login"}),
    # Security keys (WebAuthn): JSON posts on the member's own account; an empty body is refused
    # (400) or, without the app, 403 — no role decides, the account's own keys do.
    "security_key_register_options": Route(
        None, post=True, expect={"anonymous": "login", **all_("403")}
    ),
    "security_key_register": Route(None, post=True, expect={"anonymous": "login", **all_("403")}),
    "security_key_remove": Route(None, missing("pk"), expect={"anonymous": "login", **all_("404")}),
    "security_key_sign_in_options": Route(None, post=True, expect={"anonymous": "login"}),
    "security_key_sign_in": Route(None, post=True, expect={"anonymous": "login"}),
    "home": Route(None, expect={"authority": "ok"}),
    "shortlink": Route(None, missing("code"), expect=all_("404", *ROLES)),
    "l/<str:code>/": Route(None, missing("code"), expect=all_("404", *ROLES)),
    "portal:index": Route(None),
    "portal:service": Route(None, code),
    "portal:request": Route(None, code),
    "portal:anonymous": Route(None, code, expect=all_("404", *ROLES)),  # 1411: no anonymity
    "portal:book": Route(None, code, expect=all_("404", *ROLES)),  # 1411: no self-booking
    "portal:book_time": Route(None, code, expect=all_("404", *ROLES)),
    "portal:schedule_month": Route(None, code_month),
    "portal:schedule_docx": Route(None, code_month),
    "portal:follow": Route(None, public_token, not_a_link),
    "portal:received": Route(None, public_token, not_a_link),
    "portal:choose": Route(None, public_token, not_a_link),
    "portal:cancel": Route(None, public_token, not_a_link),
    "portal:contacts_confirm": Route(None, public_token, not_a_link, post=True),
    # Issue 15: a consent that is not this request's is no one's (404), even on the real link.
    "portal:consent_withdraw": Route(
        None,
        lambda r: {**public_token(r), "consent_pk": MISSING},
        lambda r: {**not_a_link(r), "consent_pk": MISSING},
        post=True,
        expect=all_("404", *ROLES),
        other_expect=all_("404", *ROLES),
    ),
    "portal:ics": Route(None, public_token, not_a_link),
    "messengers:webhook": Route(
        None, lambda r: {"channel": "telegram", "slug": "none"}, expect=all_("404", *ROLES)
    ),
    # A consultant's file through its signed public link (Viber fetches it): a wrong link, 404.
    "messengers:reply_file": Route(
        None, lambda r: {"token": "1:none:wrong"}, expect=all_("404", *ROLES)
    ),
    "consultations:client_entry": Route(None, token, not_a_link),
    "consultations:device_check": Route(None, token, not_a_link),
    "consultations:client_room": Route(None, token, not_a_link),
    "consultations:speed_test": Route(None, token, not_a_link),
    "consultations:client_recording_status": Route(None, token, not_a_link),
    # A file sent through a link that is no one's: the room's JSON refusal (403), the same for
    # every unknown link, so it tells nothing either.
    "consultations:client_file_upload": Route(
        None, token, not_a_link, post=True, other_expect=all_("403", *ROLES)
    ),
    "consultations:client_file": Route(
        None, lambda r: {**token(r), "seq": MISSING}, expect=all_("404", *ROLES)
    ),
    # Complaints: the portal's form (public) and the staff's pages
    "complaints:portal_new": Route(None, code),
    "complaints:portal_follow": Route(None, code),
    # The complainant's follow-up code (an unanswered complaint: refused with a message, 200).
    "complaints:portal_disagree": Route(
        None,
        code,
        post=True,
        data=lambda r: {"code": r.extra["follow_code"], "text": "Не согласна с ответом."},
    ),
    # Questionnaires and evaluations through the client's private links (a bearer secret)
    "surveys:fill": Route(None, lambda r: {"token": r.extra["assignment"].token}, not_a_link),
    "surveys:done": Route(None, lambda r: {"token": r.extra["assignment"].token}, not_a_link),
    "surveys:portal_list": Route(None, code),
    "surveys:portal_start": Route(  # 1411 checks eligibility: no open questionnaires
        None, lambda r: {**code(r), "instrument": "pss-10"}, expect=all_("404", *ROLES)
    ),
    "quality:evaluation": Route(None, lambda r: {"token": r.extra["evaluation"].token}, not_a_link),
    "quality:evaluation_draft": Route(
        None, lambda r: {"token": r.extra["evaluation"].token}, not_a_link, post=True
    ),
    # The API: bearer tokens only, a browser session is not enough
    **{
        f"api:{name}": Route(None, kw, expect=all_("401", *ROLES))
        for name, kw in [
            ("slots_on_date", none),
            ("slot_nearest", none),
            ("request_detail", lambda r: {"request_id": r.request.pk}),
            ("booking_detail", lambda r: {"booking_id": r.consultation.booking_id}),
            ("journal_export", lambda r: {"form": "requests-002"}),
            ("report_get", lambda r: {"service_code": r.service.code, "kind": "3.3"}),
        ]
    },
    **{
        f"api:{name}": Route(None, kw, expect=all_("401", *ROLES), post=True)
        for name, kw in [
            ("eligibility_check", none),
            ("request_create", none),
            ("booking_create", none),
            ("booking_reschedule", lambda r: {"booking_id": r.consultation.booking_id}),
            ("booking_cancel", lambda r: {"booking_id": r.consultation.booking_id}),
            ("instrument_score", lambda r: {"code": "pss-10"}),
        ]
    },
    "api:openapi-json": Route(None),
    "api:openapi-view": Route(None),
    "api:api-root": Route(None, expect=all_("404", *ROLES)),
    # The staff workplace
    "authority_home": Route(Action.AUTHORITY_VIEW),
    "authority_journal": Route(Action.JOURNAL_CODED, lambda r: {"form": "services-004"}),
    "dashboards": Route(Action.DASHBOARD_VIEW),
    "service_switch": Route(
        Action.WORKPLACE_USE, post=True, data=lambda r: {"service": r.service.pk}
    ),
    # The operator console
    "operator_console": Route(Q),
    "operator_client_search": Route(Q),
    "operator_check": Route(Q),
    "operator_refuse_check": Route(Q, post=True),
    "operator_redirect_check": Route(Q, post=True),
    "operator_request_new": Route(Q),
    "operator_request": Route(Q, req, other_req),
    "operator_queue": Route(Q),
    "operator_referral_send": Route(Q, req, other_req, post=True),
    "operator_count_with": Route(Q, req, other_req, post=True),
    "operator_count_separately": Route(Q, req, other_req, post=True),
    "operator_book": Route(Q, req, other_req),
    "operator_request_check": Route(Q, req, other_req, post=True),
    "operator_request_card_update": Route(Q, req, other_req, post=True),
    # Issue 15: withdrawing a consent on the client's word; a consent of no request is 404.
    "operator_consent_withdraw": Route(
        Q,
        lambda r: {**req(r), "consent_pk": MISSING},
        lambda r: {**other_req(r), "consent_pk": MISSING},
        post=True,
        expect={role: "404" for role in roles_for(Q)},
    ),
    "operator_request_anonymous": Route(Action.REQUEST_MARK_ANONYMOUS, req, other_req, post=True),
    "operator_request_topic": Route(Action.REQUEST_SET_TOPIC, req, other_req, post=True),
    "operator_request_child_help": Route(Action.REQUEST_CHILD_HELP, req, other_req),
    "operator_confirmation": Route(Q, req, other_req),
    "operator_cancel": Route(Q, req, other_req, post=True),
    "operator_again": Route(Q, req, other_req, post=True),
    "operator_request_refuse": Route(Q, req, other_req, post=True),
    "operator_request_redirect": Route(Q, req, other_req, post=True),
    # Schedules
    "coordinator_schedules": Route(Action.SCHEDULE_PREPARE),
    "coordinator_schedule_import": Route(Action.SCHEDULE_PREPARE),
    "coordinator_schedule_submit": Route(
        Action.SCHEDULE_PREPARE,
        lambda r: {"pk": r.consultation.booking.slot.schedule_id},
        lambda r: {"pk": r.other_consultation.booking.slot.schedule_id},
        post=True,
        other_expect=CURRENT_ONLY,
    ),
    "coordinator_schedule_edit": Route(
        Action.SCHEDULE_PREPARE,
        lambda r: {"consultant_id": r.consultation.booking.slot.consultant_id, "month": "2030-01"},
        lambda r: {
            "consultant_id": r.other_consultation.booking.slot.consultant_id,
            "month": "2030-01",
        },
        other_expect=CURRENT_ONLY,
    ),
    "coordinator_handoff": Route(Action.SCHEDULE_PREPARE),
    "responsible_persons": Route(Action.RESPONSIBLE_PERSONS),
    "head_schedules": Route(Action.SCHEDULE_APPROVE),
    "head_schedule_approve": Route(
        Action.SCHEDULE_APPROVE,
        lambda r: {"pk": r.consultation.booking.slot.schedule_id},
        lambda r: {"pk": r.other_consultation.booking.slot.schedule_id},
        post=True,
        other_expect=CURRENT_ONLY,
    ),
    "head_schedule_return": Route(
        Action.SCHEDULE_APPROVE,
        lambda r: {"pk": r.consultation.booking.slot.schedule_id},
        lambda r: {"pk": r.other_consultation.booking.slot.schedule_id},
        post=True,
        other_expect=CURRENT_ONLY,
    ),
    # Rooms and addresses, and the form and room of slots (issue 12)
    "place_list": Route(Action.PLACE_MANAGE),
    "place_new": Route(Action.PLACE_MANAGE),
    "place_edit": Route(
        Action.PLACE_MANAGE,
        lambda r: {"pk": r.extra["place"].pk},
        lambda r: {"pk": r.extra["other_place"].pk},
    ),
    "place_deactivate": Route(
        Action.PLACE_MANAGE,
        lambda r: {"pk": r.extra["place"].pk},
        lambda r: {"pk": r.extra["other_place"].pk},
        post=True,
    ),
    "place_slots": Route(Action.PLACE_MANAGE),
    "place_slot_edit": Route(
        Action.PLACE_MANAGE,
        lambda r: {"pk": r.consultation.booking.slot_id},
        lambda r: {"pk": r.other_consultation.booking.slot_id},
    ),
    # The referral directory
    "referral_list": Route(Action.REFERRAL_READ),
    "referral_new": Route(Action.REFERRAL_EDIT),
    "referral_edit": Route(Action.REFERRAL_EDIT, lambda r: {"pk": r.referral.pk}),
    # The registries (web/views/registries.py, moved by the journals work)
    "registry_requests": Route(Action.REGISTRY_VIEW),
    "registry_appeals": Route(Action.REGISTRY_VIEW),
    # Consultations
    "consultant_day": Route(Action.CONSULTATION_DAY),
    "consultations:journal": Route(Action.JOURNAL_VIEW),
    "consultations:consultant_room": Route(Action.CONSULTATION_CONDUCT, cons, other_cons),
    "consultations:consultant_room_for_booking": Route(
        Action.CONSULTATION_CONDUCT,
        lambda r: {"booking_id": r.consultation.booking_id},
        lambda r: {"booking_id": r.other_consultation.booking_id},
    ),
    "consultations:protocol": Route(Action.PROTOCOL_WRITE, cons, other_cons),
    "consultations:start_now": Route(
        Action.CONSULTATION_START_NOW,
        lambda r: {"request_id": r.request.pk},
        lambda r: {"request_id": r.other_request.pk},
    ),
    "consultations:face_to_face": Route(Action.CONSULTATION_CONDUCT, cons, other_cons),
    "consultations:mark_held": Route(Action.CONSULTATION_CONDUCT, cons, other_cons, post=True),
    "consultations:client_records": Route(Action.CONSULTATION_CONDUCT, cons, other_cons, post=True),
    "consultations:failure": Route(Action.CONSULTATION_REPORT_FAILURE, cons, other_cons, post=True),
    "consultations:no_show": Route(Action.CONSULTATION_CONDUCT, cons, other_cons, post=True),
    "consultations:phone": Route(Action.CONSULTATION_CONDUCT, cons, other_cons, post=True),
    "consultations:crisis": Route(Action.CONSULTATION_CONDUCT, cons, other_cons, post=True),
    "consultations:next_booking": Route(Action.CONSULTATION_CONDUCT, cons, other_cons, post=True),
    "consultations:consultant_file_upload": Route(
        Action.CONSULTATION_CONDUCT, cons, other_cons, post=True
    ),
    "consultations:consultant_file": Route(
        Action.CONSULTATION_CONDUCT,
        lambda r: {**cons(r), "seq": MISSING},
        expect={"consultant": "404"},  # no such file
    ),
    "consultations:recording_start": Route(Action.RECORDING_MAKE, cons, other_cons, post=True),
    # A recording that is no one's: the recorder's JSON refusal (403), as for another's.
    "consultations:recording_chunk": Route(
        Action.RECORDING_MAKE,
        lambda r: {"recording_id": MISSING, "seq": 0},
        post=True,
        expect={"consultant": "403"},
    ),
    "consultations:recording_finish": Route(
        Action.RECORDING_MAKE, missing("recording_id"), post=True, expect={"consultant": "403"}
    ),
    "consultations:recordings": Route(Action.RECORDING_VIEW),
    "consultations:recording_detail": Route(
        Action.RECORDING_VIEW, missing("recording_id"), expect=all_("404", "head", "admin")
    ),
    "consultations:recording_release_done": Route(
        Action.RECORDING_DOWNLOAD,
        missing("release_id"),
        post=True,
        expect=all_("404", "head", "admin"),
    ),
    # Written consultations and messengers
    "mail:written": Route(Action.WRITTEN_VIEW),
    # The records here are phone requests, not written ones: the thread is "not found" to all.
    "mail:thread": Route(
        Action.WRITTEN_VIEW, req, other_req, expect=all_("404", "consultant", "head", "admin")
    ),
    "mail:assign": Route(
        Action.WRITTEN_ASSIGN, req, other_req, post=True, expect=all_("404", "head", "admin")
    ),
    # Issue 15: a letter registered as a complaint (the thread is "not found" here, as above).
    "mail:letter_complaint": Route(
        Action.COMPLAINT_FILE,
        lambda r: {**req(r), "letter_pk": MISSING},
        lambda r: {**other_req(r), "letter_pk": MISSING},
        post=True,
        expect={role: "404" for role in roles_for(Action.COMPLAINT_FILE)},
    ),
    "mail:attachment": Route(
        Action.WRITTEN_VIEW,
        missing("pk"),
        expect={"consultant": "404", "head": "404", "admin": "404"},
    ),
    "mail:take_up": Route(
        Action.CONSULTATION_TAKE_WRITTEN,
        req,
        other_req,
        post=True,
        expect=all_("404", "consultant"),
    ),
    "mail:close_written": Route(
        Action.CONSULTATION_TAKE_WRITTEN,
        req,
        other_req,
        post=True,
        expect=all_("404", "consultant"),
    ),
    "mail:quarantine": Route(Action.MAIL_QUARANTINE),
    "mail:release": Route(
        Action.MAIL_QUARANTINE,
        missing("pk"),
        post=True,
        expect={"operator": "404", "head": "404", "admin": "404"},
    ),
    # Complaints (staff)
    "complaints:list": Route(Action.COMPLAINT_FILE),
    "complaints:new": Route(Action.COMPLAINT_FILE),
    "complaints:authority": Route(Action.COMPLAINT_AUTHORITY),
    # The authority opens a complaint of a service it supervises only when it reviews it or the
    # complaint is disputed (complaints/access.py, a record rule): this one is neither.
    "complaints:detail": Route(
        Action.COMPLAINT_REVIEW,
        lambda r: {"complaint_id": r.extra["complaint"].pk},
        lambda r: {"complaint_id": r.extra["other_complaint"].pk},
        expect={"authority": "403"},
    ),
    # Evaluations of quality, questionnaires
    "quality:results": Route(Action.QUALITY_RESULTS),
    "quality:my_results": Route(Action.QUALITY_OWN_RESULTS),
    "surveys:instruments": Route(Action.SURVEY_BUILD),
    "surveys:instrument_new": Route(Action.SURVEY_BUILD),
    "surveys:instrument_edit": Route(Action.SURVEY_BUILD, lambda r: {"code": "pss-10"}),
    "surveys:instrument_build_new": Route(Action.SURVEY_BUILD),
    "surveys:instrument_build": Route(Action.SURVEY_BUILD, lambda r: {"code": "pss-10"}),
    "surveys:request_results": Route(Action.SURVEY_RESULTS, req, other_req),
    "surveys:result": Route(
        Action.SURVEY_RESULTS,
        lambda r: {"pk": r.extra["result"].pk},
        lambda r: {"pk": r.extra["other_result"].pk},
    ),
    # The head's failed deliveries, the journals of regulations 002-004
    "deliveries": Route(Action.DELIVERY_VIEW),
    "audit_log": Route(Action.AUDIT_VIEW),
    # Issue 15: the breach register (heads read, the security officer keeps it); no breach
    # exists in these records, so the roles let through meet 404 on one breach's pages.
    "breach_list": Route(Action.BREACH_VIEW),
    "breach_export": Route(Action.BREACH_VIEW),
    "breach_detail": Route(
        Action.BREACH_VIEW,
        missing("pk"),
        expect={role: "404" for role in roles_for(Action.BREACH_VIEW)},
    ),
    "breach_update": Route(
        Action.BREACH_MANAGE,
        missing("pk"),
        post=True,
        expect={role: "404" for role in roles_for(Action.BREACH_MANAGE)},
    ),
    "journal": Route(Action.JOURNAL_VIEW, lambda r: {"form": "requests-002"}),
    "messengers:conversations": Route(Action.MESSENGER_VIEW),
    # Technical failures (regulation 002 §4.2.1): the head decides, the booked consultant picks
    # the new time when allowed. An empty post answers "choose the new time" (a redirect).
    "consultations:failures": Route(Action.FAILURE_DECIDE),
    "consultations:failure_accept": Route(Action.FAILURE_DECIDE, failure, other_failure, post=True),
    "consultations:failure_reject": Route(Action.FAILURE_DECIDE, failure, other_failure, post=True),
    "consultations:failure_pick": Route(Action.CONSULTATION_CONDUCT, failure, other_failure),
    "consultations:failure_new_time": Route(
        Action.CONSULTATION_CONDUCT,
        lambda r: {"consultation_id": r.extra["failure"].consultation_id},
        lambda r: {"consultation_id": r.extra["other_failure"].consultation_id},
    ),
    # The consultant's preparation (regulation 002 §4.2)
    "consultations:preparation": Route(Action.CONSULTATION_CONDUCT, cons, other_cons),
    "consultations:preparation_probe": Route(Action.CONSULTATION_CONDUCT, cons, other_cons),
    "consultations:preparation_for_booking": Route(
        Action.CONSULTATION_CONDUCT,
        lambda r: {"booking_id": r.consultation.booking_id},
        lambda r: {"booking_id": r.other_consultation.booking_id},
    ),
    # The 1411 reports. The report is form 3.3 of the intake organisation (the coordinator's),
    # sent to the authority; the head works for the provider, a side this form is not of (a
    # record rule of reports/selectors.py: "not found"). The other report is of another chain.
    "reports:list": Route(Action.REPORT_VIEW),
    "reports:detail": Route(Action.REPORT_VIEW, report, other_report, expect={"head": "404"}),
    "reports:download": Route(
        Action.REPORT_VIEW,
        lambda r: {**report(r), "fmt": "xlsx"},
        lambda r: {**other_report(r), "fmt": "xlsx"},
        expect={"head": "404"},
    ),
    # A draft is made by the sending organisation's coordinator or head (a record rule): the
    # head's provider is not the sender of 3.3, the authority sends nothing, the administrator
    # belongs to no organisation (all 403); the coordinator meets "already sent" (409).
    "reports:draft": Route(
        Action.REPORT_VIEW,
        post=True,
        data=lambda r: {"service": r.service.pk, "kind": "3.3", "month": "2026-03"},
        expect={"head": "403", "authority": "403", "admin": "403"},
    ),
    "messengers:conversation": Route(
        Action.MESSENGER_VIEW,
        missing("pk"),
        expect={"consultant": "404", "head": "404", "admin": "404"},
    ),
    # Events (group consultations, webinars): the public registration form, the participant's
    # private link (a bearer secret), the certificate check; the staff's pages of a service
    "events:register": Route(None, ev, missing("pk")),
    "events:registration": Route(None, ev_token, not_a_link),
    "events:room": Route(None, ev_token, not_a_link),
    "events:messages": Route(None, ev_token, not_a_link),
    "events:certificate": Route(None, ev_token, not_a_link),
    "events:presence": Route(None, ev_token, not_a_link, post=True),
    "events:recording_consent": Route(None, ev_token, not_a_link, post=True),
    # Its own registration: cancelling twice must not touch the others' pages.
    "events:cancel": Route(
        None, lambda r: {"token": r.extra["cancel_registration"].token}, not_a_link, post=True
    ),
    "events:verify": Route(
        None, lambda r: {"code": r.extra["certificate"].code}, lambda r: {"code": "NOSUCHCODE"}
    ),
    "events:staff_events": Route(Action.EVENT_RUN),
    "events:staff_event": Route(Action.EVENT_RUN, ev, other_ev),
    "events:staff_event_new": Route(Action.EVENT_MANAGE),
    "events:staff_event_edit": Route(Action.EVENT_MANAGE, ev, other_ev),
    "events:staff_event_cancel": Route(Action.EVENT_MANAGE, ev, other_ev, post=True),
    "events:staff_room": Route(Action.EVENT_RUN, ev, other_ev),
    "events:staff_messages": Route(Action.EVENT_RUN, ev, other_ev),
    "events:staff_presence": Route(Action.EVENT_RUN, ev, other_ev, post=True),
    "events:staff_moderate": Route(Action.EVENT_RUN, ev, other_ev, post=True),
    # Recording the room (issue 14): the lead (the consultant here) and the head pass the gate (an
    # empty POST: 409, no type); a coordinator who neither leads nor moderates it is refused.
    "events:staff_recording_start": Route(
        Action.EVENT_RECORD, ev, other_ev, post=True, expect={"coordinator": "403"}
    ),
    # A recording that is no one's: the recorder's JSON refusal (403), as for another's.
    "events:staff_recording_chunk": Route(
        Action.EVENT_RECORD,
        lambda r: {"recording_id": MISSING, "seq": 0},
        post=True,
        expect=all_("403", "consultant", "coordinator", "head", "admin"),
    ),
    "events:staff_recording_finish": Route(
        Action.EVENT_RECORD,
        missing("recording_id"),
        post=True,
        expect=all_("403", "consultant", "coordinator", "head", "admin"),
    ),
    "events:staff_recording": Route(
        Action.RECORDING_VIEW, missing("recording_id"), expect=all_("404", "head", "admin")
    ),
    **{
        f"api:{name}": Route(None, kw, expect=all_("401", *ROLES), post=post)
        for name, kw, post in [
            ("event_create", none, True),
            ("event_register", lambda r: {"event_id": r.extra["event"].pk}, True),
            ("event_attendance", lambda r: {"event_id": r.extra["event"].pk}, False),
            ("certificate_check", lambda r: {"code": r.extra["certificate"].code}, False),
        ]
    },
    "messengers:take_up": Route(
        Action.CONSULTATION_TAKE_WRITTEN, missing("pk"), post=True, expect={"consultant": "404"}
    ),
    "messengers:close_written": Route(
        Action.CONSULTATION_TAKE_WRITTEN, missing("pk"), post=True, expect={"consultant": "404"}
    ),
}


def _patterns(resolver: URLResolver, prefix: str = "", ns: str = "") -> Iterator[tuple[str, str]]:
    """(key, route) of every pattern: `namespace:name`, or the route itself when unnamed."""
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{ns}:{pattern.namespace}" if ns and pattern.namespace else pattern.namespace
            yield from _patterns(pattern, route, inner or ns)
        elif isinstance(pattern, URLPattern):
            key = f"{ns}:{pattern.name}" if ns and pattern.name else (pattern.name or route)
            yield key, route


def _is_admin(key: str, route: str) -> bool:
    return key.startswith("admin:") or route.startswith("admin/")


PATTERNS = sorted(set(_patterns(get_resolver())))


def test_every_url_has_an_entry():
    keys = {key for key, route in PATTERNS if not _is_admin(key, route)}
    missing_keys = sorted(keys - set(ROUTES))
    assert not missing_keys, (
        "These URLs have no line in ROUTES of opora/core/tests/test_url_access.py; add one each, "
        'e.g. "<name>": Route(Action.<THE ACTION ITS VIEW ASKS>, <kwargs>), and a row in '
        "opora.accounts.policy.RULES if the action is new (then regenerate docs/SECURITY.md): "
        + ", ".join(missing_keys)
    )
    stale = sorted(set(ROUTES) - keys)
    assert not stale, f"ROUTES names URLs that no longer exist: {stale}"
    assert sum(_is_admin(k, r) for k, r in PATTERNS) > 50  # the admin is walked too (below)


def _outcome(response: Any) -> str:
    status = response.status_code
    if status in (301, 302, 303):
        where = response.get("Location", "")
        if "/login/" in where and "next=" in where:
            return "login"
        return "ok"
    if status in (401, 403, 404):
        return str(status)
    if status >= 500:
        return str(status)
    return "ok"


def _expected(route: Route, role: str, *, other: bool) -> str:
    if not other and role in route.expect:
        return route.expect[role]
    if route.action is None:  # on "another record", a private link that is no one's: 404
        return route.other_expect.get(role, "404") if other else route.expect.get(role, "ok")
    if role == "anonymous":
        return "login"
    rule = RULES[route.action]
    if role not in roles_for(route.action):
        return "403"
    if other and role != "admin":
        return "404" if rule.hidden else "403"
    if not other:
        return "ok"
    return route.other_expect.get(role, route.expect.get(role, "ok"))


@pytest.fixture
def records(db) -> Records:
    service = make_service_1411()
    other = other_service(service, code="other")
    consultant = make_consultant(service, username="r-consultant")
    other_consultant = make_consultant(other)
    referral = Referral.objects.create(name="Центр (синтетический)", helps_with="помощь")
    consultation = make_live_consultation(service, consultant)
    request = consultation.booking.request
    request.public_token = "policy-test-token"
    request.save(update_fields=["public_token", "public_token_hash"])
    other_consultation = make_live_consultation(other, other_consultant)
    return Records(
        service=service,
        other=other,
        consultation=consultation,
        other_consultation=other_consultation,
        referral=referral,
        extra={
            **_later_records(consultation, other_consultation),
            **_failures_and_reports(service, consultant, other, other_consultant),
        },
    )


def _failures_and_reports(
    service: Any, consultant: Any, other: Any, other_consultant: Any
) -> dict[str, Any]:
    """A reported technical failure of an earlier consultation of each service; a 1411 report
    (form 3.3, sent to the authority) of the service's chain and one of another chain."""
    import datetime as dt

    from django.utils import timezone

    from opora.consultations.models import TechnicalFailure
    from opora.reports.models import Report
    from opora.reports.services import report_draft

    extra: dict[str, Any] = {}
    for prefix, s, c in (("", service, consultant), ("other_", other, other_consultant)):
        earlier = make_live_consultation(s, c, starts_in=dt.timedelta(hours=-3))
        extra[f"{prefix}failure"] = TechnicalFailure.objects.create(
            consultation=earlier, cause=TechnicalFailure.Cause.PLATFORM, reported_by=c
        )
        # A room of the service (issue 12's places screen)
        extra[f"{prefix}place"] = Place.objects.create(service=s, name="Кабинет 1")
    month = dt.date(2026, 3, 1)
    chain = other_service(
        service,
        code="kz-other-chain",
        intake_organisation=make_organisation(name="Колл-центр (другой)", kind="call_centre"),
        provider_organisation=make_organisation(name="Центр (другой)", kind="university"),
        authority=make_organisation(name="Управление (другое)", kind="ministry"),
    )
    for prefix, s in (("", service), ("other_", chain)):
        made = report_draft(service=s, kind="3.3", month=month)
        signer = make_user(Role.COORDINATOR, organisation=s.intake_organisation)
        Report.objects.filter(pk=made.pk).update(
            state=Report.State.SENT,
            signed_at=timezone.now(),
            signed_by=signer,
            sent_at=timezone.now(),
        )
        extra[f"{prefix}report"] = made
    return extra


def _later_records(consultation: Any, other_consultation: Any) -> dict[str, Any]:
    """A complaint, a questionnaire's link and result, an evaluation, an event — of each
    service; a participant's registrations and certificate of the first service's event."""
    import datetime as dt

    from django.utils import timezone

    from opora.complaints.models import Complaint
    from opora.complaints.services import complaint_register
    from opora.core.actors import SystemActor
    from opora.events.models import Certificate
    from opora.events.services import registration_create
    from opora.events.tests.factories import make_event, phone
    from opora.quality.models import Evaluation
    from opora.surveys.loader import load_shipped
    from opora.surveys.models import Instrument, InstrumentVersion
    from opora.surveys.services import assignment_create, response_submit
    from opora.surveys.tests.helpers import answers_for_total

    load_shipped(Instrument, InstrumentVersion)
    version = InstrumentVersion.objects.filter(instrument__code="pss-10").order_by("-number")[0]
    extra: dict[str, Any] = {}
    staff = make_admin()  # works for every service: gives the links as the service's staff
    for prefix, c in (("", consultation), ("other_", other_consultation)):
        request = c.booking.request
        service = request.service
        extra[f"{prefix}complaint"], extra[f"{prefix}follow_code"] = complaint_register(
            actor=SystemActor(name="complaints.portal"),
            service=service,
            channel=Complaint.Channel.PORTAL,
            text="Синтетическая жалоба.",
            complainant_name="Тестова Мария",
            phone="+77010009999",
            email="parent@example.org",
            request_code="",
            consent=True,
        )
        assignment = assignment_create(
            actor=staff, service=service, version=version, request=request
        )
        extra[f"{prefix}assignment"] = assignment
        extra[f"{prefix}result"] = response_submit(
            assignment=assignment_create(
                actor=staff, service=service, version=version, request=request
            ),
            answers=answers_for_total(version.definition, 10),
        )
        now = timezone.now()
        extra[f"{prefix}evaluation"] = Evaluation.objects.create(
            request=request,
            consultation=c,
            service=service,
            consultant_id=c.booking.slot.consultant_id,
            served_at=now,
            closes_at=now + dt.timedelta(days=3),
        )
        # An event of the service, led by its consultant
        extra[f"{prefix}event"] = make_event(service, c.booking.slot.consultant)
    event = extra["event"]
    for key, i in (("registration", 1), ("cancel_registration", 2)):
        extra[key] = registration_create(
            actor=None, event=event, full_name="Тестова Анна", phone=phone(i)
        ).registration
    extra["certificate"] = Certificate.objects.create(
        registration=extra["registration"],
        full_name="Тестова Анна",
        event_title=event.title_ru,
        event_date=event.starts_at.date(),
        hours=1,
        service_name=event.service.name,
    )
    return extra


def _clients(records: Records) -> dict[str, Client]:
    service = records.service  # the staff belong to its organisations (the 1411 reports' sides)
    users: dict[str, User] = {
        "operator": make_user(
            Role.OPERATOR, service=records.service, organisation=service.intake_organisation
        ),
        "coordinator": make_user(
            Role.COORDINATOR, service=records.service, organisation=service.intake_organisation
        ),
        "consultant": User.objects.get(username="r-consultant"),
        "head": make_user(
            Role.HEAD, service=records.service, organisation=service.provider_organisation
        ),
        "authority": make_user(
            Role.AUTHORITY, service=records.service, organisation=service.authority
        ),
        "admin": make_admin(is_superuser=True),  # as the installation's administrator
        "security_officer": make_user(Role.SECURITY_OFFICER),
    }
    clients = {"anonymous": Client()}
    for role, user in users.items():
        User.objects.filter(pk=user.pk).update(is_staff=True)  # the admin's own gate passed
        client = Client()
        client.force_login(user)
        clients[role] = client
    return clients


def _hit(client: Client, url: str, route: Route, records: Records) -> Any:
    # Every staff member works in the first service at each hit: opening another service's
    # record switches an administrator to it (`follow_record`), which must not leak to the next.
    if "_auth_user_id" in client.session:
        session = client.session
        session[SESSION_SERVICE_KEY] = records.service.pk
        session.save()
    return client.post(url, route.data(records)) if route.post else client.get(url)


@pytest.mark.django_db
def test_every_url_answers_every_role_as_the_table_says(records, monkeypatch):
    monkeypatch.setattr("opora.accounts.two_factor.may_act", lambda *a, **k: True, raising=False)
    clients = _clients(records)
    wrong: list[str] = []
    # Form addresses last (an empty post may change a record the pages above read), signing
    # out the very last.
    for key, route in sorted(
        ROUTES.items(),
        key=lambda item: (item[1].post, item[0] in ("logout", "sign_out_everywhere")),
    ):
        url = (
            reverse(key, kwargs=route.kwargs(records))
            if not key.startswith("l/")
            else (f"/l/{MISSING}/")
        )
        other_url = reverse(key, kwargs=route.other(records)) if route.other else None
        for role in ROLES:
            got = _outcome(_hit(clients[role], url, route, records))
            want = _expected(route, role, other=False)
            if got != want:
                wrong.append(f"{key} {role}: {got}, table says {want} ({url})")
            if other_url and (role != "anonymous" or route.action is None):
                got = _outcome(_hit(clients[role], other_url, route, records))
                want = _expected(route, role, other=True)
                if got != want:
                    wrong.append(f"{key} {role} OTHER service: {got}, table says {want}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_the_admin_asks_the_policy(records):
    """Every model page of the admin (the resolver's admin patterns): only `admin.site` roles."""
    clients = _clients(records)
    changelists = sorted(
        key for key, route in PATTERNS if key.startswith("admin:") and key.endswith("_changelist")
    )
    assert len(changelists) > 20
    wrong = []
    for key in changelists:
        url = reverse(key)
        for role in ROLES:
            response = clients[role].get(url)
            if role == "anonymous":
                ok = response.status_code == 302 and "/admin/login/" in response["Location"]
            elif role in roles_for(Action.ADMIN_SITE):
                ok = response.status_code == 200
            else:
                ok = response.status_code in (302, 403)
            if not ok:
                wrong.append(f"{key} {role}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_a_refusal_is_logged_without_personal_data(records, caplog):
    clients = _clients(records)
    request = records.other_request
    with caplog.at_level(logging.WARNING, logger="opora.access"):
        response = clients["consultant"].get(reverse("operator_request", args=[request.pk]))
    assert response.status_code == 403
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "opora.access")
    assert "action=request.queue" in logged and "role=consultant" in logged
    for personal in (request.full_name, request.iin, request.phone, "r-consultant"):
        assert personal not in logged
    assert "Тестова" not in logged


# The API's read routes with a bearer token of each role (its writes validate the body first, so
# an empty one answers 422 to every role; their gates are the same `_actor` calls).
API_READS: dict[str, tuple[Action, Callable[[Records], str]]] = {
    "api:slots_on_date": (
        Action.SLOTS_VIEW,
        lambda r: reverse("api:slots_on_date") + f"?service={r.service.code}&date=2030-01-02",
    ),
    "api:slot_nearest": (
        Action.SLOTS_VIEW,
        lambda r: reverse("api:slot_nearest") + f"?service={r.service.code}",
    ),
    "api:request_detail": (
        Action.INTAKE_API,
        lambda r: reverse("api:request_detail", kwargs={"request_id": r.request.pk}),
    ),
    "api:booking_detail": (
        Action.BOOKING_VIEW,
        lambda r: reverse("api:booking_detail", kwargs={"booking_id": r.consultation.booking_id}),
    ),
    "api:report_get": (
        Action.REPORT_VIEW,
        lambda r: (
            reverse("api:report_get", kwargs={"service_code": r.service.code, "kind": "3.3"})
            + "?month=2026-03"
        ),
    ),
    "api:event_attendance": (
        Action.EVENT_RUN,
        lambda r: reverse("api:event_attendance", kwargs={"event_id": r.extra["event"].pk}),
    ),
}


@pytest.mark.django_db
def test_the_api_answers_every_role_as_the_table_says(records):
    from opora.accounts.services import api_token_create

    _clients(records)  # the staff of the service
    users = {
        role: User.objects.filter(role=role, is_active=True).order_by("-pk").first()
        for role in ROLES[1:]
    }
    users["consultant"] = User.objects.get(username="r-consultant")
    raws = {role: api_token_create(user=user)[1] for role, user in users.items() if user}
    assert set(API_READS) <= set(ROUTES)
    wrong = []
    client = Client()
    for key, (action, url_of) in API_READS.items():
        url = url_of(records)
        for role in ROLES:
            headers = {"Authorization": f"Bearer {raws[role]}"} if role in raws else {}
            status = client.get(url, headers=headers).status_code
            if role == "anonymous":
                want = {401}
            elif role in roles_for(action):
                want = {200, 404}  # 404: no free slot that day
            else:
                want = {403}
            if status not in want:
                wrong.append(f"{key} {role}: {status}, table says {sorted(want)}")
    assert not wrong, "\n".join(wrong)
