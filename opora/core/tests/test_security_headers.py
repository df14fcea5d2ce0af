"""Content-Security-Policy, Permissions-Policy and no-store as served (opora.core.http)."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

OPORA = Path(__file__).resolve().parents[2]


def _directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {
        part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
        for part in (p.strip() for p in policy.split(";"))
        if part
    }


def _strict(response) -> None:
    d = _directives(response)
    assert d["default-src"] == "'self'"
    assert d["script-src"] == "'self'" and d["style-src"] == "'self'"
    assert "unsafe" not in response["Content-Security-Policy"]
    assert d["object-src"] == "'none'" and d["frame-ancestors"] == "'none'"
    assert d["base-uri"] == "'none'" and d["form-action"] == "'self'"


def test_a_public_page_has_a_strict_policy_no_camera_and_may_be_cached(client, service):
    response = client.get(reverse("portal:service", args=[service.code]))
    assert response.status_code == 200
    _strict(response)
    assert "camera=()" in response["Permissions-Policy"]
    assert "microphone=()" in response["Permissions-Policy"]
    assert "no-store" not in response.get("Cache-Control", "")


def test_a_staff_page_is_never_stored(client, operator):
    client.force_login(operator)
    for name in ("operator_console", "account"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        _strict(response)
        assert "no-store" in response["Cache-Control"], name
        assert "camera=()" in response["Permissions-Policy"]


def test_the_bad_input_page_carries_the_headers_too(client):
    response = client.get("/s/?q=%00")
    assert response.status_code == 400
    _strict(response)


def test_only_the_admin_may_have_inline_styles(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "x-Pass-123")
    client.force_login(admin)
    response = client.get("/admin/")
    assert response.status_code == 200
    d = _directives(response)
    assert d["style-src"] == "'self' 'unsafe-inline'" and d["script-src"] == "'self'"
    assert "no-store" in response["Cache-Control"]


# What the policy refuses, looked for in every template a browser receives (e-mail bodies are
# read by mail clients, not under our policy).
_INLINE = [
    (re.compile(r"<style", re.I), "a <style> block"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I), "inline script"),
    (re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I), "an event-handler attribute"),
    (re.compile(r"javascript:", re.I), "a javascript: address"),
    (re.compile(r"hx-on", re.I), "an hx-on handler"),
]


def test_no_template_has_inline_script_or_style():
    found = []
    for path in OPORA.rglob("templates/**/*.html"):
        # E-mails and the PDFs WeasyPrint draws never reach a browser under the policy.
        if "email" in path.name or path.name.endswith("_pdf.html") or ".venv" in path.parts:
            continue
        text = path.read_text()
        for pattern, what in _INLINE:
            if pattern.search(text):
                found.append(f"{path.relative_to(OPORA)}: {what}")
    assert found == []
