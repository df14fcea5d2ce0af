"""The 1411 chain: figures against the data (persons unique), sign-off, versions, deadlines."""

import datetime as dt
import io

import openpyxl
import pytest
from django.core import mail

from opora.core.errors import DomainError, PermissionDenied
from opora.core.models import AuditEvent
from opora.notifications.models import Notification
from opora.reports import selectors, services
from opora.reports.models import Report, SignedReportChanged
from opora.reports.tests.factories import MONTH
from opora.scheduling.calendar import make_aware_local

D = dt.date
pytestmark = pytest.mark.django_db


def by(rows, key):
    return {r[key]: (r["requests"], r["persons"]) for r in rows}


class TestFigures:
    def test_handed_over_in_the_month(self, service, consultant, data):
        f = services.compute_figures(service=service, kind="3.1", month=MONTH)
        # a1, a2, b1 (10th), anon (11th), c1 (31st); `late` (31st, 17:30) went on 1 April.
        assert f["total"] == {"requests": 5, "persons": 4}
        assert by(f["by_region"], "region") == {"Алматы": (4, 3), "Астана": (1, 1)}
        assert by(f["by_day"], "day") == {
            "2026-03-10": (3, 2),
            "2026-03-11": (1, 1),
            "2026-03-31": (1, 1),
        }
        assert by(f["by_consultant"], "consultant") == {consultant.display_name: (5, 4)}

    def test_persons_served_are_unique_people(self, service, consultant, other_consultant, data):
        f = services.compute_figures(service=service, kind="3.2", month=MONTH)
        # a1 + a2 (one client), the anonymous request, February's request served on 2 March;
        # not b1 (no-show) nor c1 (served in April).
        assert f["total"] == {"requests": 4, "persons": 3}
        assert by(f["by_region"], "region") == {"Алматы": (3, 2), "Астана": (1, 1)}
        assert by(f["by_consultant"], "consultant") == {
            consultant.display_name: (3, 2),
            other_consultant.display_name: (1, 1),
        }
        assert sum(r["requests"] for r in f["by_day"]) == 4

    def test_the_authority_forms_code_the_consultants(
        self, service, consultant, other_consultant, data
    ):
        f = services.compute_figures(service=service, kind="3.4", month=MONTH)
        names = {r["consultant"] for r in f["by_consultant"]}
        assert names == {f"К-{consultant.pk}", f"К-{other_consultant.pk}"}
        assert "discrepancies" not in f

    def test_discrepancies_name_the_requests_behind(
        self, service, consultant, other_consultant, data
    ):
        f = services.compute_figures(service=service, kind="3.1", month=MONTH)
        gaps = {(g["region"], g["consultant"]): g for g in f["discrepancies"]}
        ala = gaps[("Алматы", consultant.display_name)]
        assert (ala["handed_over"], ala["served"]) == (4, 2)
        assert [r["number"] for r in ala["requests"]] == [data["b1"].pk]
        assert gaps[("Астана", other_consultant.display_name)]["handed_over"] == 0

    def test_an_empty_month_has_zeros(self, service):
        f = services.compute_figures(service=service, kind="3.2", month=D(2025, 1, 1))
        assert f["total"] == {"requests": 0, "persons": 0} and f["by_region"] == []

    def test_figures_are_a_few_group_by_queries(self, service, data, django_assert_max_num_queries):
        with django_assert_max_num_queries(12):
            services.compute_figures(service=service, kind="3.1", month=MONTH)


class TestChain:
    def test_draft_sign_send_confirm(
        self, service, coordinator, univ_head, data, django_capture_on_commit_callbacks
    ):
        report = services.report_draft(service=service, kind="3.1", month=MONTH, actor=coordinator)
        assert report.state == "draft" and report.version == 1
        assert report.organisation_from == service.intake_organisation
        assert report.organisation_to == service.provider_organisation
        with pytest.raises(PermissionDenied):
            services.report_sign(report=report, actor=univ_head)
        report = services.report_sign(report=report, actor=coordinator)
        assert report.signed_by == coordinator and report.signed_at
        with django_capture_on_commit_callbacks(execute=True):
            report = services.report_send(report=report, actor=coordinator)
        assert report.state == "sent"
        stored = Notification.objects.get(kind="report")
        assert stored.recipient == service.provider_organisation.email
        (message,) = mail.outbox
        ((name, content, _mime),) = message.attachments
        assert name == "report-3.1-2026-03-v1.xlsx"
        cells = [
            c
            for row in openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(
                values_only=True
            )
            for c in row
        ]
        assert "Алматы" in cells and 5 in cells
        assert not any(isinstance(c, str) and "Заявителева" in c for c in cells)
        # The University sees it in its list, and answers.
        assert report in selectors.reports_visible(univ_head)
        with pytest.raises(DomainError, match="Say what is wrong"):
            services.report_answer(report=report, actor=univ_head, confirm=False)
        with pytest.raises(PermissionDenied):
            services.report_answer(report=report, actor=coordinator, confirm=True)
        report = services.report_answer(report=report, actor=univ_head, confirm=True)
        assert report.state == "confirmed" and report.answered_by == univ_head
        events = set(
            AuditEvent.objects.filter(subject_id=str(report.pk)).values_list(
                "event_type", flat=True
            )
        )
        assert {"report.drafted", "report.signed", "report.sent", "report.answered"} <= events

    def test_the_receiver_sees_no_draft(self, service, coordinator, univ_head, data):
        report = services.report_draft(service=service, kind="3.1", month=MONTH, actor=coordinator)
        assert report not in selectors.reports_visible(univ_head)
        assert report in selectors.reports_visible(coordinator)

    def test_only_the_sending_side_drafts(self, service, coordinator, univ_head, data):
        with pytest.raises(PermissionDenied):
            services.report_draft(service=service, kind="3.1", month=MONTH, actor=univ_head)
        report = services.report_draft(service=service, kind="3.2", month=MONTH, actor=univ_head)
        assert report.organisation_from == service.provider_organisation
        with pytest.raises(PermissionDenied):
            services.report_sign(report=report, actor=coordinator)

    def test_a_signed_report_is_never_changed(self, service, coordinator, data):
        report = services.report_draft(service=service, kind="3.1", month=MONTH, actor=coordinator)
        services.report_sign(report=report, actor=coordinator)
        with pytest.raises(services.ReportLocked, match="signed and can't be edited"):
            services.report_draft(service=service, kind="3.1", month=MONTH, actor=coordinator)
        with pytest.raises(services.ReportLocked):
            services.report_sign(report=report, actor=coordinator)
        report.refresh_from_db()
        report.figures = {"total": {"requests": 999, "persons": 999}}
        with pytest.raises(SignedReportChanged):
            report.save()
        report.refresh_from_db()
        assert report.figures["total"]["requests"] == 5

    def test_a_correction_is_a_new_version_with_its_reason(self, service, coordinator, data):
        v1 = services.report_draft(service=service, kind="3.3", month=MONTH, actor=coordinator)
        v1 = services.report_sign(report=v1, actor=coordinator)
        with pytest.raises(DomainError, match="reason"):
            services.report_correct(report=v1, actor=coordinator, reason="  ")
        v2 = services.report_correct(
            report=v1, actor=coordinator, reason="Заявка от 31.03 учтена дважды"
        )
        assert (v2.version, v2.state, v2.replaces_id) == (2, "draft", v1.pk)
        v1.refresh_from_db()
        assert v1.state == "signed" and v1.figures["total"]["requests"] == 5
        with pytest.raises(services.ReportLocked):
            services.report_correct(report=v1, actor=coordinator, reason="again")
        # The draft of version 2 is the one drafting refreshes.
        assert services.report_draft(service=service, kind="3.3", month=MONTH).pk == v2.pk


class TestDeadlines:
    def test_overdue_until_sent(self, service, coordinator, head, data):
        rows = {
            d.kind: d for d in selectors.deadlines(actor=head, month=MONTH, today=D(2026, 4, 6))
        }
        assert rows["3.1"].due == D(2026, 4, 5) and rows["3.1"].overdue
        assert rows["3.2"].due == D(2026, 4, 10) and not rows["3.2"].overdue
        assert rows["3.3"].due == rows["3.4"].due == D(2026, 4, 15)
        report = services.report_draft(service=service, kind="3.1", month=MONTH, actor=coordinator)
        services.report_sign(report=report, actor=coordinator)
        services.report_send(report=report, actor=coordinator)
        rows = {
            d.kind: d for d in selectors.deadlines(actor=head, month=MONTH, today=D(2026, 4, 6))
        }
        # Sent now (long after 5 April 2026): done, and marked as sent late.
        assert rows["3.1"].done and rows["3.1"].overdue

    def test_sent_in_time_is_not_overdue(self, service, coordinator, head, data):
        report = services.report_draft(service=service, kind="3.1", month=MONTH, actor=coordinator)
        services.report_sign(report=report, actor=coordinator)
        services.report_send(report=report, actor=coordinator)
        Report.objects.filter(pk=report.pk).update(
            sent_at=make_aware_local(service, D(2026, 4, 3), dt.time(10))
        )
        rows = {
            d.kind: d for d in selectors.deadlines(actor=head, month=MONTH, today=D(2026, 4, 20))
        }
        assert rows["3.1"].done and not rows["3.1"].overdue
        assert rows["3.2"].overdue and rows["3.3"].overdue

    def test_the_authority_sees_the_deadlines(self, service, authority_user, data):
        rows = selectors.deadlines(actor=authority_user, month=MONTH, today=D(2026, 4, 20))
        assert {d.kind for d in rows} == {"3.1", "3.2", "3.3", "3.4"}
        assert all(d.overdue for d in rows)

    def test_schedules_by_the_25th(self, service, head, consultant, data):
        (row,) = selectors.schedule_deadlines(actor=head, today=D(2026, 3, 26))
        assert row.due == D(2026, 3, 25) and row.month == D(2026, 4, 1)
        # The data made an approved schedule for April (the served consultation of 2 April).
        assert row.consultants == 2 and row.approved == 1 and row.overdue


class TestInput:
    def test_months(self, service):
        assert services.parse_month("2026-03", service=service) == MONTH
        with pytest.raises(DomainError, match="not a month"):
            services.parse_month("March", service=service)
        with pytest.raises(DomainError, match="has not begun"):
            services.parse_month("2999-01", service=service)


class TestMonthlyTask:
    def test_drafts_the_previous_month_once(self, service, coordinator, data):
        from opora.reports.tasks import draft_monthly_reports

        now = make_aware_local(service, D(2026, 4, 1), dt.time(11))
        ids = draft_monthly_reports(now=now)
        assert Report.objects.filter(month=MONTH, state="draft").count() == 4 == len(ids)
        signed = services.report_sign(report=Report.objects.get(kind="3.1"), actor=coordinator)
        again = draft_monthly_reports(now=now)
        assert sorted(again) == sorted(set(ids) - {signed.pk})
        assert Report.objects.count() == 4
