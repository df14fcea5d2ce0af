"""The journals at a desk (1280 px): the head opens them from the menu, goes through the five
forms of regulations 002, 003 and 004, reads the regulations' headings, sees the journal of
services coded, downloads the Word copy and reads it back. axe-core on every form."""

import io

import pytest
from docx import Document
from playwright.sync_api import expect

from opora.intake.services import request_create
from opora.journals.catalogue import FORMS

from .conftest import e2e_db, login

pytestmark = e2e_db


@pytest.fixture
def named(service, operator):
    service.eligibility_rule = "none"
    service.allows_anonymous = True
    service.save()
    return request_create(
        actor=operator,
        service=service,
        full_name="Жұмабаева Әйгерім Серікқызы",
        phone="+7 701 000 00 21",
        reason="Ребёнок не говорит",
        channel="phone",
    )


def test_the_head_reads_every_journal(page, axe_check, head, named):
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, head.username)
    page.get_by_role("link", name="Журналы").first.click()
    expect(page.locator("h1")).to_have_text(FORMS["requests-002"].title)
    expect(page.locator("#registry-table")).to_contain_text("Жұмабаева Әйгерім Серікқызы")
    for code, form in FORMS.items():
        page.locator(f"#journal-forms a[href='/journals/{code}/']").click()
        expect(page.locator("h1")).to_have_text(form.title)
        if page.locator("#registry-table").count():
            heads = page.locator("#registry-table thead th").all_inner_texts()
            assert heads == list(form.columns)
        axe_check(page, where=f"journal {code}")
    # The journal of services is the general-use copy: a code, never the name.
    expect(page.locator("#registry-table")).to_contain_text(f"код {named.public_code}")
    expect(page.locator("#registry-table")).not_to_contain_text("Жұмабаева")
    with page.expect_download() as download_info:
        page.locator("#journal-export-docx").click()
    with open(download_info.value.path(), "rb") as f:
        document = Document(io.BytesIO(f.read()))
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == list(FORMS["services-004"].columns)
    assert table.rows[1].cells[3].text == f"код {named.public_code}"
