"""The row locks of complaints, in one place (every `select_for_update` of the app is here)."""

from __future__ import annotations

from django.db.models import QuerySet

from opora.complaints.models import Complaint, ComplaintCounter


def complaint_counter_qs_select_for_update() -> QuerySet[ComplaintCounter]:
    return ComplaintCounter.objects.select_for_update()


def complaint_qs_select_for_update() -> QuerySet[Complaint]:
    """Only the complaint's own row (`of=self`): the joined request and slot stay unlocked."""
    return Complaint.objects.select_for_update(of=("self",))
