"""`{% evaluation_invitation request %}`: the questionnaire's link on a page that a lower app
renders (the room's closing page), without that app importing this one.

The service was just given (the consultation ended): the evaluation is opened here if the sweep
has not opened it yet — the same idempotent `evaluation_open` — so the client sees the link at
once. Nothing is shown when the service was not given or the window has closed.
"""

from __future__ import annotations

from typing import Any

from django import template

from opora.quality.selectors import evaluation_link_for_request
from opora.quality.services import evaluation_open

register = template.Library()


@register.inclusion_tag("quality/_invitation.html")
def evaluation_invitation(request: Any) -> dict:
    link = None
    if request is not None and getattr(request, "pk", None):
        evaluation_open(request=request)
        link = evaluation_link_for_request(request)
    return {"evaluation_link": link}
