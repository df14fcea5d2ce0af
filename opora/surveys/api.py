"""`POST /api/v1/instruments/{code}/score`: score answers with an instrument's published rules.

Public (no bearer token): the route stores nothing and returns nothing personal — the caller
sends answers and gets the arithmetic of a published scale back, as a paper scoring key would.
The bot and other front ends use it to show feedback before anything is saved; storing a
response goes through a questionnaire link (the `surveys` pages), never through this route.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from opora.surveys import scoring, selectors


class ScoreIn(Schema):
    answers: dict[str, int]


class ScoreOut(Schema):
    total: int
    band: str
    risk: bool
    subscales: dict[str, int]


class ScoreErrorOut(Schema):
    detail: str
    code: str


class ScoreFieldError(Schema):
    field: str
    message: str


class ScoreInvalidOut(Schema):
    detail: str
    code: str
    errors: list[ScoreFieldError]


router = Router(tags=["instruments"], auth=None)


@router.post(
    "/{code}/score",
    response={200: ScoreOut, 400: ScoreErrorOut, 404: ScoreErrorOut, 422: ScoreInvalidOut},
    auth=None,
)
def instrument_score(request: HttpRequest, code: str, data: ScoreIn) -> Status[dict]:
    """Score answers keyed by the published item numbers (values as the published scoring counts
    them, before reversal). 422 names the item when an answer is missing or out of range."""
    version = selectors.instrument_version_current(code=code[:40])
    try:
        result = scoring.score(version.definition, data.answers)
    except scoring.AnswerError as exc:
        return Status(
            422,
            {
                "detail": exc.message,
                "code": "answer",
                "errors": [{"field": f"answers.{exc.item}"[:200], "message": exc.message}],
            },
        )
    return Status(200, result.as_dict())


__all__ = ["router", "_"]
