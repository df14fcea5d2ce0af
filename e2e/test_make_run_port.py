"""`make run` on a port other than 8000, as a person tries it from a clone (issue 9).

`bash scripts/run.sh` (what `make run` runs) starts with PORT set to a free port, its own var
folder (embedded SQLite, no DATABASE_URL or REDIS_URL) and the local settings: `opora prepare`
migrates, loads the demo and prints the synthetic IINs to try. A 1411 parent on a 360-px phone
self-books on /s/kz-1411/ with one of the printed eligible IINs and its name, and a phone number.
The SMS notice, read from the SQLite outbox, is at most two segments and its link starts with the
served address (OPORA_PUBLIC_URL derived from PORT); opened in the browser, that link shows the
private page of the request. The whole server's process group is stopped at the end, always.
"""

import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from opora.core.fields import decrypt_text
from opora.notifications.sms import sms_segments

# The key `make run` derives its field key from (the local settings' own, or OPORA_SECRET_KEY).
from opora.settings.local import SECRET_KEY as LOCAL_SECRET_KEY

ROOT = Path(__file__).resolve().parent.parent
PHONE = {"viewport": {"width": 360, "height": 780}, "has_touch": True, "is_mobile": True}
START_TIMEOUT = 120  # seconds: a cold start migrates, collects static files and loads the demo
PHONE_NUMBER = "+7 701 555 44 37"
# Variables of the test run that would make the server something else than `make run` makes it.


NOT_PASSED_ON = (
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SETTINGS_MODULE",
    "OPORA_PUBLIC_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def _free_port() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port != 8000:
            return port


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own server
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def served(tmp_path):
    """The server `make run` starts, on a free port ≠ 8000: (base URL, its output, SQLite path)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in NOT_PASSED_ON}
    env.update(PORT=str(port), OPORA_VAR_DIR=str(tmp_path / "var"))
    out = tmp_path / "run.log"
    base = f"http://127.0.0.1:{port}"
    with out.open("w") as log:
        proc = subprocess.Popen(  # noqa: S603 - a fixed command
            ["bash", "scripts/run.sh"],  # noqa: S607
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: server, scheduler, children
        )
    try:
        started = time.monotonic()
        while not _healthy(f"{base}/healthz"):
            if proc.poll() is not None:
                pytest.fail(f"scripts/run.sh exited with {proc.returncode}:\n{out.read_text()}")
            if time.monotonic() - started > START_TIMEOUT:
                pytest.fail(f"no /healthz after {START_TIMEOUT} s:\n{out.read_text()}")
            time.sleep(0.5)
        print(f"make run served /healthz after {time.monotonic() - started:.1f} s")
        yield base, out, tmp_path / "var" / "opora.sqlite3"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _eligible_sample(output: str) -> tuple[str, str]:
    """The first synthetic IIN and name the demo prints as eligible."""
    listed = output.split("Synthetic IINs to try", 1)
    assert len(listed) == 2, f"the demo printed no synthetic IINs:\n{output}"
    for line in listed[1].splitlines()[1:]:
        m = re.match(r"\s+(\d{12})\s+(.+?)\s{2,}(eligible\b.*)$", line)
        if m:
            return m.group(1), m.group(2)
        if not line.strip():
            break
    pytest.fail(f"no eligible synthetic IIN among those printed:\n{listed[1]}")


def _fits(page, where: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{where}: the page is {width} px wide on a 360-px phone"


def test_a_1411_parent_self_books_and_the_sms_link_works_on_another_port(
    browser, axe_check, served
):
    base, out, sqlite_path = served
    iin, full_name = _eligible_sample(out.read_text())

    context = browser.new_context(base_url=base, locale="ru-RU", **PHONE)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        expect.set_options(timeout=15_000)

        page.goto("/s/kz-1411/")
        _fits(page, "1411 service page")
        axe_check(page, where="1411 service page at 360 px")
        page.locator("#book-link").click()
        page.get_by_label("Ваши фамилия, имя, отчество").fill(full_name)
        page.get_by_label("ИИН").fill(iin)
        page.get_by_label("Телефон").fill(PHONE_NUMBER)
        page.locator("#id_consent").check()
        _fits(page, "self-booking step 1")
        axe_check(page, where="1411 self-booking, step 1, at 360 px")
        page.locator("#request-submit").click()

        expect(page.locator("h1")).to_have_text("Выбор времени")
        _fits(page, "self-booking step 2")
        axe_check(page, where="1411 self-booking, step 2, at 360 px")
        first = page.locator("input[name=time]").first
        page.locator(f"label[for={first.get_attribute('id')}]").click()
        expect(first).to_be_checked()
        page.locator("#slot-submit").click()

        expect(page.locator("#booking-details")).to_be_visible()
        expect(page.locator("#request-status")).to_have_text("Забронирована")
        expect(page).to_have_url(re.compile(r"/s/r/[^/]+/$"))
        private_url = page.url
        _fits(page, "private page")
        axe_check(page, where="1411 private page, booked, at 360 px")

        # The SMS in the outbox of the embedded database (stored with the booking).
        # Stored encrypted (core.sensitive): decrypted here with the key `make run` uses, the one
        # derived from its SECRET_KEY (the local settings' own unless OPORA_SECRET_KEY is set).
        digits = re.sub(r"\D", "", PHONE_NUMBER)
        local_secret = os.environ.get("OPORA_SECRET_KEY") or LOCAL_SECRET_KEY
        keys = {
            "SECRET_KEY": local_secret,
            "OPORA_FIELD_KEY": os.environ.get("OPORA_FIELD_KEY", ""),
        }
        with (
            sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True, timeout=10) as db,
            override_settings(**keys),
        ):
            rows = [
                decrypt_text(body, aad=b"opora-field:notifications.notification.body")
                for body, recipient in db.execute(
                    "SELECT body, recipient FROM notifications_notification"
                    " WHERE channel = 'sms' ORDER BY id"
                )
                if re.sub(
                    r"\D",
                    "",
                    decrypt_text(
                        recipient, aad=b"opora-field:notifications.notification.recipient"
                    ),
                )
                == digits
            ]
        assert rows, "no SMS to the parent's phone in the outbox"
        sms = rows[-1]
        assert sms_segments(sms) <= 2, f"{sms_segments(sms)} SMS segments: {sms!r}"
        link = re.search(r"https?://\S+/l/[0-9A-Za-z]+", sms)
        assert link, f"no short link in the SMS: {sms!r}"
        assert link.group(0).startswith(f"{base}/"), (link.group(0), base)

        page.goto(link.group(0))  # what a tap on the link in the SMS does
        expect(page).to_have_url(private_url)
        expect(page.locator("#request-status")).to_have_text("Забронирована")
        expect(page.locator("#booking-details")).to_be_visible()
        _fits(page, "private page from the SMS link")
        axe_check(page, where="private page opened from the SMS link, at 360 px")
    finally:
        context.close()
