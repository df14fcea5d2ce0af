"""The stored figures of each month (`reports.rollup`): equal to the live aggregation, before and
after edits; a finished month edited is marked and recounted; the list behind the discrepancies
page by page and streamed; the rebuild command."""

import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from opora.consultations.models import Consultation
from opora.core.models import Region
from opora.intake.models import ServiceRequest
from opora.reports import figures, rollup, services
from opora.reports.kinds import KINDS
from opora.reports.models import MonthDirty, MonthFigure, MonthFigureState
from opora.reports.tests.factories import MONTH, region
from opora.scheduling.calendar import local_now
from opora.scheduling.models import Booking

D = dt.date
APRIL = D(2026, 4, 1)
pytestmark = pytest.mark.django_db


def live(service, kind: str, month=MONTH) -> dict:
    """The figures counted live, as a draft stored them before the roll-up."""
    spec = KINDS[kind]
    out = figures.measure_figures(service, month, spec.measure, coded=spec.coded)
    if not spec.coded:
        out["discrepancies"] = figures.discrepancies(service, month)
    return out


def stored(service, kind: str, month=MONTH) -> dict:
    out = services.compute_figures(service=service, kind=kind, month=month)
    out.pop("computed_at")
    return out


def assert_all_forms_equal_live(service, month=MONTH) -> None:
    for kind in ("3.1", "3.2", "3.3", "3.4"):
        assert stored(service, kind, month) == live(service, kind, month), kind


class TestStoredEqualsLive:
    def test_every_form_of_both_months(self, service, data):
        assert_all_forms_equal_live(service, MONTH)
        assert_all_forms_equal_live(service, APRIL)
        assert rollup.is_clean(service, MONTH) and rollup.is_clean(service, APRIL)

    def test_one_pass_and_per_breakdown_writers_store_the_same_rows(self, service, data):
        if connection.vendor != "postgresql":
            pytest.skip("GROUPING SETS and the temporary table are PostgreSQL's")

        def rows():
            return sorted(
                MonthFigure.objects.filter(service=service, month=MONTH).values_list(
                    "measure",
                    "breakdown",
                    "region_id",
                    "consultant_id",
                    "day",
                    "requests",
                    "persons",
                    "unserved",
                    "sample",
                ),
                key=str,
            )

        rollup.recompute(service, MONTH, grouping_sets=True)
        one_pass = rows()
        rollup.recompute(service, MONTH, grouping_sets=False)
        assert rows() == one_pass and len(one_pass) > 10

    def test_a_clean_month_is_read_from_the_store(self, service, data):
        assert rollup.ensure(service, MONTH) is True
        assert rollup.ensure(service, MONTH) is False
        # Proof that the report reads the stored rows: a stored total changed behind its back
        # shows, until a write marks the month.
        MonthFigure.objects.filter(
            service=service, month=MONTH, measure=figures.HANDED_OVER, breakdown=7
        ).update(requests=999)
        assert stored(service, "3.3")["total"]["requests"] == 999
        rollup.mark_months([MONTH])
        assert not rollup.is_clean(service, MONTH)
        assert stored(service, "3.3")["total"]["requests"] == 5

    def test_the_month_in_progress_is_never_clean(self, service, data):
        today = local_now(service).date().replace(day=1)
        rollup.recompute(service, today)
        assert not rollup.is_clean(service, today)
        assert not MonthFigureState.objects.filter(month=today).exists()


class TestEditsMarkTheMonth:
    def test_serving_a_request_of_a_finished_month(
        self, service, consultant, data, django_capture_on_commit_callbacks
    ):
        assert_all_forms_equal_live(service)
        before = stored(service, "3.1")["discrepancies"]
        assert sum(g["unserved"] for g in before) == 1  # b1, a no-show
        # b1's consultation is held after all (recorded late): March's figures change.
        consultation = Consultation.objects.get(booking__request=data["b1"])
        with django_capture_on_commit_callbacks(execute=True):
            consultation.status = Consultation.Status.ENDED
            consultation.started_at = consultation.booking.slot.starts_at
            consultation.ended_at = consultation.booking.slot.ends_at
            consultation.save()
        assert MonthDirty.objects.filter(month=MONTH).exists()
        assert not rollup.is_clean(service, MONTH)
        after = stored(service, "3.1")["discrepancies"]
        assert sum(g["unserved"] for g in after) == 0
        assert stored(service, "3.2")["total"] == {"requests": 5, "persons": 4}
        assert_all_forms_equal_live(service)

    def test_an_end_moved_to_another_month_marks_both(
        self, service, data, django_capture_on_commit_callbacks
    ):
        assert_all_forms_equal_live(service, MONTH)
        assert_all_forms_equal_live(service, APRIL)
        # c1 (served 2 April) is recorded as served on 31 March instead.
        consultation = Consultation.objects.get(booking__request=data["c1"])
        with django_capture_on_commit_callbacks(execute=True):
            started, ended = consultation.started_at, consultation.ended_at
            assert started is not None and ended is not None
            consultation.started_at = started - dt.timedelta(days=2, hours=3)
            consultation.ended_at = ended - dt.timedelta(days=2, hours=3)
            consultation.save()
        assert not rollup.is_clean(service, MONTH) and not rollup.is_clean(service, APRIL)
        assert_all_forms_equal_live(service, MONTH)
        assert_all_forms_equal_live(service, APRIL)
        assert stored(service, "3.4", APRIL)["total"]["requests"] == 0

    def test_a_request_moved_to_another_region(
        self, service, data, django_capture_on_commit_callbacks
    ):
        assert_all_forms_equal_live(service)
        req = ServiceRequest.objects.get(pk=data["a1"].pk)
        with django_capture_on_commit_callbacks(execute=True):
            req.region = region("KZ-KAR", "Караганда")
            req.save()
        assert not rollup.is_clean(service, MONTH)
        regions = {r["region"] for r in stored(service, "3.3")["by_region"]}
        assert "Караганда" in regions
        assert_all_forms_equal_live(service)

    def test_a_booking_cancelled(self, service, data, django_capture_on_commit_callbacks):
        assert_all_forms_equal_live(service)
        booking = Booking.objects.get(request=data["b1"])
        with django_capture_on_commit_callbacks(execute=True):
            booking.status = Booking.Status.CANCELLED
            booking.save()
        assert not rollup.is_clean(service, MONTH)
        assert_all_forms_equal_live(service)

    def test_the_periodic_refresh_recounts_the_marked_months(self, service, data):
        rollup.ensure(service, MONTH)
        assert rollup.refresh_due() == 0
        rollup.mark_months([MONTH])
        assert rollup.refresh_due() == 1
        assert rollup.is_clean(service, MONTH)


class TestUnservedList:
    def test_a_page_of_the_requests_behind(self, service, consultant, data):
        # More unserved requests: a1 and a2's consultations undone (a bulk update: no signal).
        Consultation.objects.filter(booking__request__in=[data["a1"], data["a2"]]).update(
            status=Consultation.Status.NO_SHOW
        )
        numbers = sorted([data["a1"].pk, data["a2"].pk, data["b1"].pk])
        page = figures.unserved_page(service, MONTH, after=0, limit=2)
        assert [r["number"] for r in page] == numbers[:2]
        assert page[0]["region"] == "Алматы" and page[0]["consultant"] == consultant.display_name
        rest = figures.unserved_page(service, MONTH, after=page[-1]["number"], limit=2)
        assert [r["number"] for r in rest] == numbers[2:]
        assert figures.unserved_page(service, MONTH, after=numbers[-1]) == []

    def test_the_report_page_and_the_streamed_csv(
        self, client, service, coordinator, authority_user, data
    ):
        report = services.report_draft(service=service, kind="3.1", month=MONTH, actor=coordinator)
        client.force_login(coordinator)
        url = reverse("reports:detail", args=[report.pk])
        page = client.get(url).content.decode()
        assert 'id="download-unserved"' in page and 'id="unserved"' not in page
        page = client.get(url, {"after": "0"}).content.decode()
        assert 'id="unserved"' in page and f"№{data['b1'].pk}" in page
        assert 'id="unserved-next"' not in page  # one page
        assert client.get(url, {"after": "nope"}).status_code == 200
        response = client.get(reverse("reports:download", args=[report.pk, "csv"]))
        assert response.status_code == 200 and response.streaming
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert [r[0] for r in rows[1:]] == [str(data["b1"].pk)]
        assert rows[1][2] == "Алматы"
        # The authority sees no request, listed or downloaded.
        sent = services.report_draft(service=service, kind="3.3", month=MONTH, actor=coordinator)
        services.report_sign(report=sent, actor=coordinator)
        services.report_send(report=sent, actor=coordinator)
        client.force_login(authority_user)
        detail = client.get(reverse("reports:detail", args=[sent.pk]), {"after": "0"})
        assert 'id="unserved"' not in detail.content.decode()
        csv_response = client.get(reverse("reports:download", args=[sent.pk, "csv"]))
        assert csv_response.status_code == 403


class TestRebuildCommand:
    def test_every_month_with_data(self, service, data):
        out = io.StringIO()
        call_command("rebuild_report_figures", stdout=out)
        text = out.getvalue()
        # February (a hand-off), March, April (a consultation ended): months that have ended.
        months = set(
            MonthFigureState.objects.filter(service=service).values_list("month", flat=True)
        )
        assert months == {D(2026, 2, 1), MONTH, APRIL}
        assert f"{service.code} 2026-03:" in text and "3 month(s)" in text
        assert rollup.is_clean(service, MONTH)
        assert_all_forms_equal_live(service)

    def test_one_month_and_bad_input(self, service, data):
        out = io.StringIO()
        call_command("rebuild_report_figures", "--month", "2026-03", stdout=out)
        assert "1 month(s)" in out.getvalue()
        with pytest.raises(CommandError, match="YYYY-MM"):
            call_command("rebuild_report_figures", "--month", "March")
        with pytest.raises(CommandError, match="no service"):
            call_command("rebuild_report_figures", "--service", "nope")

    def test_a_renamed_region_shows_after_no_recount(self, service, data):
        rollup.ensure(service, MONTH)
        Region.objects.filter(code="KZ-ALA").update(name_ru="Алматы (город)")
        names = {r["region"] for r in stored(service, "3.1")["by_region"]}
        assert "Алматы (город)" in names  # the stored rows keep the region, not its name
