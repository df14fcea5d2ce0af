"""The self-booking draft: what step 1 collected (contacts, the positive registry check, the
consent) kept in the visitor's server-side session until a time is chosen at step 2.

Nothing is written to the request tables before step 2, so an abandoned booking leaves no
«Новая» request in any queue and is never counted. The draft expires after `DRAFT_TTL`; its
`key` makes step 2 idempotent (`PortalSubmission.draft_key` is unique).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from typing import Any

from django.utils import timezone

from opora.portal.services import PortalRequest

DRAFT_TTL = dt.timedelta(hours=2)
_SESSION_KEY = "portal-booking-drafts"


@dataclasses.dataclass(frozen=True)
class BookingDraft:
    key: str
    service_id: int
    created_at: dt.datetime
    data: PortalRequest
    consent_id: int | None = None
    check_id: int | None = None
    # The private token of the request step 2 made (a repeated step 2 goes to it).
    done_token: str = ""

    @classmethod
    def new(
        cls, *, service_id: int, data: PortalRequest, consent_id: int | None, check_id: int | None
    ) -> BookingDraft:
        return cls(
            key=secrets.token_hex(16),
            service_id=service_id,
            created_at=timezone.now(),
            data=data,
            consent_id=consent_id,
            check_id=check_id,
        )

    def expired(self, now: dt.datetime | None = None) -> bool:
        return (now or timezone.now()) - self.created_at > DRAFT_TTL

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "service_id": self.service_id,
            "created_at": self.created_at.isoformat(),
            "data": dataclasses.asdict(self.data),
            "consent_id": self.consent_id,
            "check_id": self.check_id,
            "done_token": self.done_token,
        }

    @classmethod
    def from_json(cls, raw: Any) -> BookingDraft | None:
        try:
            return cls(
                key=str(raw["key"]),
                service_id=int(raw["service_id"]),
                created_at=dt.datetime.fromisoformat(raw["created_at"]),
                data=PortalRequest(**raw["data"]),
                consent_id=raw.get("consent_id"),
                check_id=raw.get("check_id"),
                done_token=str(raw.get("done_token") or ""),
            )
        except (KeyError, TypeError, ValueError):
            return None


def draft_load(
    session: Any, *, service_id: int, now: dt.datetime | None = None
) -> BookingDraft | None:
    """The visitor's live draft for this service, or None (an expired one is dropped)."""
    drafts = session.get(_SESSION_KEY) or {}
    draft = BookingDraft.from_json(drafts.get(str(service_id)))
    if draft is not None and draft.expired(now):
        draft_clear(session, service_id=service_id)
        return None
    return draft


def draft_save(session: Any, draft: BookingDraft) -> None:
    drafts = dict(session.get(_SESSION_KEY) or {})
    # Expired drafts of other services go at every write: personal data is not kept longer.
    drafts = {
        k: v
        for k, v in drafts.items()
        if (d := BookingDraft.from_json(v)) is not None and not d.expired()
    }
    drafts[str(draft.service_id)] = draft.to_json()
    session[_SESSION_KEY] = drafts


def draft_finish(session: Any, draft: BookingDraft, *, token: str) -> None:
    """Step 2 done: forget the personal data, keep only the key and where it led."""
    done = dataclasses.replace(draft, data=PortalRequest(), done_token=token)
    draft_save(session, done)


def draft_clear(session: Any, *, service_id: int) -> None:
    drafts = dict(session.get(_SESSION_KEY) or {})
    if drafts.pop(str(service_id), None) is not None:
        session[_SESSION_KEY] = drafts
