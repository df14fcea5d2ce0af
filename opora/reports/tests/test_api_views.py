"""The API route and the staff pages: formats, bad input, who sees what — and no person anywhere
the authority looks."""

import io
import json

import openpyxl
import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from opora.accounts.services import api_token_create
from opora.reports import services
from opora.reports.models import Report
from opora.reports.tests.factories import MONTH

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/kz-1411/{kind}"


def api(user):
    _, raw = api_token_create(user=user)
    return HttpClient(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")


def sent(service, kind, actor):
    report = services.report_draft(service=service, kind=kind, month=MONTH, actor=actor)
    services.report_sign(report=report, actor=actor)
    return services.report_send(report=report, actor=actor)


def no_person(text: str, data) -> None:
    for req in data.values():
        assert req.full_name not in text and (not req.iin or req.iin not in text)
        assert req.phone not in text


class TestApi:
    def test_json_xlsx_pdf(self, service, coordinator, data):
        client = api(coordinator)
        body = client.get(URL.format(kind="3.1"), {"month": "2026-03"}).json()
        assert body["state"] == "not_drafted" and body["version"] is None
        assert body["figures"]["total"] == {"requests": 5, "persons": 4}
        assert body["due"] == "2026-04-05"
        report = services.report_draft(service=service, kind="3.1", month=MONTH, actor=coordinator)
        body = client.get(URL.format(kind="3.1"), {"month": "2026-03", "format": "json"}).json()
        assert (body["state"], body["version"]) == ("draft", 1)
        response = client.get(URL.format(kind="3.1"), {"month": "2026-03", "format": "xlsx"})
        assert response.status_code == 200
        assert response["Content-Type"] == services.XLSX_MIME
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert ["Алматы", 4, 3] in rows and ["Астана", 1, 1] in rows
        assert any(r[0] == "Версия" and r[1] == "1" for r in rows)
        response = client.get(URL.format(kind="3.1"), {"month": "2026-03", "format": "pdf"})
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
        from pypdf import PdfReader

        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
        assert "Алматы" in text and "Отчёт" in text or "Алматы" in text
        assert report.pk

    def test_bad_input_names_the_problem(self, service, coordinator, data):
        client = api(coordinator)
        r = client.get(URL.format(kind="3.1"), {"month": "03/2026"})
        assert r.status_code == 400 and "YYYY-MM" in r.json()["detail"]
        r = client.get(URL.format(kind="3.1"), {"month": "2999-01"})
        assert r.status_code == 400 and "has not begun" in r.json()["detail"]
        r = client.get(URL.format(kind="3.1"))
        assert r.status_code == 400
        r = client.get(URL.format(kind="3.9"), {"month": "2026-03"})
        assert r.status_code == 404 and "3.1, 3.2, 3.3, 3.4" in r.json()["detail"]
        r = client.get(URL.format(kind="3.1"), {"month": "2026-03", "format": "docx"})
        assert r.status_code == 400 and "json, xlsx, pdf" in r.json()["detail"]
        r = client.get("/api/v1/reports/nope/3.1", {"month": "2026-03"})
        assert r.status_code == 404

    def test_the_authority_sees_only_what_was_sent_and_no_person(
        self, service, coordinator, authority_user, operator, data
    ):
        client = api(authority_user)
        assert client.get(URL.format(kind="3.3"), {"month": "2026-03"}).status_code == 404
        sent(service, "3.3", coordinator)
        sent(service, "3.4", coordinator)
        for kind in ("3.3", "3.4"):
            r = client.get(URL.format(kind=kind), {"month": "2026-03"})
            assert r.status_code == 200 and r.json()["state"] == "sent"
            no_person(r.content.decode(), data)
            assert "Фамилия" not in r.content.decode()  # consultants are codes
        assert client.get(URL.format(kind="3.1"), {"month": "2026-03"}).status_code == 404
        assert api(operator).get(URL.format(kind="3.1"), {"month": "2026-03"}).status_code == 403


class TestPages:
    def test_coordinator_drafts_signs_sends_and_the_university_answers(
        self, client, service, coordinator, univ_head, data
    ):
        client.force_login(coordinator)
        page = client.get(reverse("reports:list"), {"month": "2026-03"}).content.decode()
        assert 'id="draft-3.1"' in page and 'id="draft-3.2"' not in page
        r = client.post(
            reverse("reports:draft"), {"service": service.pk, "kind": "3.1", "month": "2026-03"}
        )
        report = Report.objects.get(kind="3.1")
        assert r.status_code == 303 and r.url == reverse("reports:detail", args=[report.pk])
        page = client.get(r.url).content.decode()
        assert 'id="report-sign"' in page and 'id="discrepancies"' in page
        no_person(page, data)
        client.post(r.url, {"action": "sign"})
        client.post(r.url, {"action": "send"})
        report.refresh_from_db()
        assert report.state == "sent"
        r2 = client.post(r.url, {"action": "redraft"})
        assert r2.status_code == 409 and "не может быть изменена" in r2.content.decode()
        client.force_login(univ_head)
        page = client.get(reverse("reports:list"), {"month": "2026-03"}).content.decode()
        assert f'href="{reverse("reports:detail", args=[report.pk])}"' in page
        client.post(r.url, {"action": "dispute", "comment": "Заявок 4, не 5"})
        report.refresh_from_db()
        assert report.state == "disputed" and report.answer_comment == "Заявок 4, не 5"
        xlsx = client.get(reverse("reports:download", args=[report.pk, "xlsx"]))
        assert xlsx.status_code == 200 and xlsx["Content-Type"] == services.XLSX_MIME

    def test_the_authority_pages_show_no_person(
        self, client, service, coordinator, authority_user, data
    ):
        report = sent(service, "3.3", coordinator)
        client.force_login(authority_user)
        home = client.get(reverse("authority_home")).content.decode()
        assert reverse("reports:list") in home and "later version" not in home
        page = client.get(reverse("reports:list"), {"month": "2026-03"}).content.decode()
        assert "badge--returned overdue" in page and 'id="draft-' not in page
        detail = client.get(reverse("reports:detail", args=[report.pk])).content.decode()
        assert 'id="discrepancies"' not in detail and 'id="report-confirm"' in detail
        for text in (page, detail):
            no_person(text, data)
        # A draft of another form is not theirs to see.
        draft = services.report_draft(service=service, kind="3.4", month=MONTH, actor=coordinator)
        assert client.get(reverse("reports:detail", args=[draft.pk])).status_code == 404
        assert client.get(reverse("reports:list"), {"month": "nope"}).status_code == 400

    def test_a_json_snapshot_of_the_figures_is_plain_json(self, service, univ_head, data):
        report = services.report_draft(service=service, kind="3.2", month=MONTH, actor=univ_head)
        assert json.loads(json.dumps(report.figures))["total"]["persons"] == 3
