"""The row locks of quality, in one place (every `select_for_update` of the app is here)."""

from __future__ import annotations

from django.db.models import QuerySet

from opora.quality.models import Evaluation


def evaluation_qs_select_for_update() -> QuerySet[Evaluation]:
    return Evaluation.objects.select_for_update()
