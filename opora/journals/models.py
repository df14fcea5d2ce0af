"""The dashboards' daily roll-up (issue 11: "a dashboard page ≤ 1 s" with 2M requests).

`DailyFigure` holds, per service and local day, the counts each chart sums: one row per
(measure, key), once per region of the request and once over all regions. A page sums the roll-up for the settled days and counts the rest
live (today, days changed since their roll-up, days after the last refresh), so its figures equal
the live aggregation. `RollupDirty` lists the days changed since their roll-up (marked after each
commit that touches a request, a booking, a slot, a consultation or a protocol);
`RollupState.covered_through` is the last day the roll-up was built for. The writer is
`opora.journals.rollups`.
"""

from __future__ import annotations

from django.db import models


class DailyFigure(models.Model):
    class Measure(models.TextChoices):
        CHANNEL = "channel"  # requests registered, key = channel
        REGION = "region"  # requests registered (rows per region only: the regions chart)
        PERSONS = "persons"  # distinct persons of the (service, day[, region]); no key
        KIND_FORM = "kind_form"  # services given (done, not counted with another): kind, form
        LEAD = "lead"  # requests by days from registration to the first booking (`days`)
        SERVICE_DAYS = "service_days"  # owed requests by days to the first booked time or NULL
        CONSULTANT = "consultant"  # consultations by the slot's day, `ref` = consultant id
        TOPIC = "topic"  # protocols by the consultation's day, key = topic

    service = models.ForeignKey("core.Service", models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()  # the local day (settings.TIME_ZONE)
    region = models.ForeignKey(
        "core.Region", models.DO_NOTHING, null=True, related_name="+", db_constraint=False
    )
    # Rows per region (read when a page filters by region) or the totals over all regions
    # (`region` NULL; read otherwise): a day of a national service has requests from a hundred
    # regions, so the totals are what keeps a page's read to a few thousand rows.
    by_region = models.BooleanField(default=True)
    measure = models.CharField(max_length=16, choices=Measure.choices)
    key = models.CharField(max_length=32, blank=True, default="")
    key2 = models.CharField(max_length=32, blank=True, default="")
    days = models.IntegerField(null=True)
    ref = models.BigIntegerField(null=True)
    n = models.BigIntegerField(default=0)
    held = models.BigIntegerField(default=0)
    no_shows = models.BigIntegerField(default=0)
    held_length = models.DurationField(null=True)  # the sum of the held consultations' lengths
    timed = models.BigIntegerField(default=0)  # held consultations with both times

    class Meta:
        indexes = [
            models.Index(fields=["measure", "by_region", "day", "service"], name="dailyfigure_read")
        ]

    def __str__(self) -> str:
        return f"{self.measure} {self.day} s{self.service_id}"


class RollupDirty(models.Model):
    """A local day whose roll-up is out of date; `marked_at` tells a later mark from the one a
    refresh has read."""

    day = models.DateField(unique=True)
    marked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"dirty {self.day}"


class RollupState(models.Model):
    """One row: the roll-up holds every day up to `covered_through` (NULL: never built)."""

    covered_through = models.DateField(null=True)
    time_zone = models.CharField(max_length=64, blank=True, default="")
    refreshed_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"roll-up through {self.covered_through}"
