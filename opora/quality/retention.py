"""Quality's part of the requests' retention (registered in `QualityConfig.ready` under the kind
"requests", run by `core.retention` beside intake's purger, which cannot import quality): past the
request's term, or once the request is anonymised, its evaluation keeps its scores, channel, form
and dates (what the quality reports count) but not the free text the client wrote (impressions,
wishes), which may name the family."""

from __future__ import annotations

from opora.intake.retention import purge_with_requests
from opora.quality.models import Evaluation

purge_evaluation_texts = purge_with_requests(Evaluation, ("impressions", "wishes"))
