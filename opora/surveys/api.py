"""`POST /api/v1/instruments/{code}/score`: score answers with an instrument's published rules.

Behind the API's bearer token like every other route (the API's contract: without a token every
operation answers 401), although it stores nothing and returns nothing personal — the caller sends
answers and gets the arithmetic of a published scale back, as a paper scoring key would. The bot
and other front ends use it to show feedback; a visitor without a token fills a questionnaire on
the portal, where the server scores it. Storing a response goes through a questionnaire link
(the `surveys` pages), never through this route.

The API (`opora.api`, above this app) builds the router with its own error bodies
(`make_router(WRITE_ERRORS)`), so every route of `/api/v1/` declares the same error schemas.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Path, Router, Schema, Status

from opora.surveys import scoring, selectors


class ScoreIn(Schema):
    answers: dict[str, int]


class ScoreOut(Schema):
    total: int
    band: str
    risk: bool
    subscales: dict[str, int]


# An instrument code as stored (a slug): a path that cannot be one never reaches the route.
INSTRUMENT_CODE = Path(..., pattern=r"^[-a-zA-Z0-9_]{1,40}$", description="e.g. phq-9, pss-10.")


def make_router(errors: dict[int, Any]) -> Router:
    """The `/instruments` router; `errors` maps each error status to the API's body schema."""
    router = Router(tags=["instruments"])

    @router.post("/{code}/score", response={200: ScoreOut, **errors})
    def instrument_score(
        request: HttpRequest, data: ScoreIn, code: str = INSTRUMENT_CODE
    ) -> Status[dict]:
        """Score answers keyed by the published item numbers (values as the published scoring
        counts them, before reversal): PHQ-9 and GAD-7 0–3, PSS-10 0–4, the Parental Stress
        Scale 1–5. 422 names the item when an answer is missing or out of range."""
        version = selectors.instrument_version_current(code=code)
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

    return router
