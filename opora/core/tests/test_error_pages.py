"""`make run` (opora.settings.local) never shows Django's debug page to visitors: DEBUG is off unless
the developer asks for it, and even then the page goes only to the machine itself, without the
settings (DATABASE_URL carries a password)."""

import os
import subprocess
import sys

from django.test import RequestFactory, override_settings
from django.views.debug import technical_500_response

SECRET_URL = "postgres://opora:hunter2-topsecret@db.example/opora"


def _local_debug(tmp_path, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "OPORA_DEBUG"}
    clean.update(DJANGO_SETTINGS_MODULE="opora.settings.local", OPORA_VAR_DIR=str(tmp_path), **env)
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    return subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_make_run_settings_have_debug_off_unless_asked(tmp_path):
    assert _local_debug(tmp_path) == "False"
    assert _local_debug(tmp_path, OPORA_DEBUG="1") == "True"


def _crash(remote_addr: str):
    request = RequestFactory().get("/s/", REMOTE_ADDR=remote_addr, DATABASE_URL=SECRET_URL)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        return technical_500_response(request, *sys.exc_info())


@override_settings(DEBUG=True, DATABASE_URL=SECRET_URL)
def test_with_debug_on_a_visitor_from_elsewhere_gets_the_kind_500_page():
    response = _crash("192.0.2.7")
    html = response.content.decode()
    assert response.status_code == 500
    assert "Что-то пошло не так" in html
    assert "Traceback" not in html and "RuntimeError" not in html and "topsecret" not in html


@override_settings(DEBUG=True, DATABASE_URL=SECRET_URL)
def test_the_developers_own_debug_page_shows_no_settings_and_no_database_password():
    html = _crash("127.0.0.1").content.decode()
    assert "RuntimeError" in html  # the developer does get the traceback
    assert "topsecret" not in html
    assert "INSTALLED_APPS" not in html and "ROOT_URLCONF" not in html  # no settings listed
