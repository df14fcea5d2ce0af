"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

One browser per session; each test gets fresh contexts (cookies, locale ru-RU). The live server runs
in another thread, so tests use `transactional_db` (the `e2e_db` marker below does it for a module)
and build their data with the project's factories and services before they open a page.
"""

import datetime as dt
import os
from collections.abc import Callable, Iterator

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make for set-up
# are ordinary blocking calls and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("OPORA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
PASSWORD = "pass-Word-123"  # the default of opora.demo.factories.make_user

# Transactional: the live server's thread must see the data. The root conftest puts back the
# regions the migrations load, which the flush after each such test removes.
e2e_db = pytest.mark.django_db(transaction=True)


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


# The CSP listener: every page of every browser context reports a Content-Security-Policy
# violation (the `securitypolicyviolation` event, and Chromium's console error) to the test that
# opened it, which then fails (`_no_csp_violations`).
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__oporaCsp && window.__oporaCsp(
    `${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
  );
});
"""
_csp_violations: list[str] = []


def _csp_event(text: str) -> None:
    _csp_violations.append(text)


def _csp_console(message) -> None:
    if message.type == "error" and "Content Security Policy" in message.text:
        _csp_violations.append(f"console: {message.text}")


class _CspWatchedBrowser:
    """The browser, whose every new context carries the CSP listener."""

    def __init__(self, browser) -> None:
        self._browser = browser

    def new_context(self, *args, **kwargs):
        context = self._browser.new_context(*args, **kwargs)
        context.expose_function("__oporaCsp", _csp_event)
        context.add_init_script(CSP_LISTENER)
        context.on("console", _csp_console)
        return context

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture(autouse=True)
def _no_csp_violations() -> Iterator[None]:
    """Fails a browser test whose pages broke the Content-Security-Policy (torn down last)."""
    _csp_violations.clear()
    yield
    if _csp_violations:
        found = "\n".join(sorted(set(_csp_violations)))
        _csp_violations.clear()
        pytest.fail(f"Content-Security-Policy violations:\n{found}")


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test`, which installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield _CspWatchedBrowser(b)
        b.close()


@pytest.fixture
def new_page(browser, live_server) -> Iterator[Callable]:
    """Open a page in a new browser context (its own cookies: another person at another desk)."""
    from django.core.cache import cache
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)
    cache.clear()  # the rate limits' counts of earlier tests (every test comes from 127.0.0.1)
    contexts = []

    def open_page(locale: str = "ru-RU"):
        context = browser.new_context(base_url=live_server.url, locale=locale)
        context.grant_permissions(["camera", "microphone"])
        contexts.append(context)
        p = context.new_page()
        p.set_default_timeout(10_000)
        return p

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture(scope="session")
def _axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture
def axe_check(_axe):
    """Run axe-core in the page; fail with the list of violations, if any."""

    def check(page, *, where: str = "") -> None:
        results = _axe.run(page)
        violations = results.response["violations"]
        if violations:
            lines = [
                f"{v['id']} ({v['impact']}): {v['help']} — "
                + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:5])
                for v in violations
            ]
            pytest.fail(f"axe-core violations on {where or page.url}:\n" + "\n".join(lines))

    return check


def login(page, username: str, password: str = PASSWORD, *, axe_check=None) -> None:
    """Sign in through the login form (and check the form with axe when `axe_check` is given)."""
    from playwright.sync_api import expect

    page.goto("/login/")
    if axe_check is not None:
        axe_check(page, where="login page")
    form = page.locator("#login-form")
    form.get_by_label("Имя пользователя").fill(username)
    form.get_by_label("Пароль").fill(password)
    form.get_by_role("button", name="Вход").click()
    expect(page.locator("#logout-button")).to_be_visible()


def future_working_day(service, *, days_ahead: int = 7) -> dt.date:
    """A working day of the service at least `days_ahead` days after its local today."""
    from opora.scheduling.calendar import is_working_day, local_now

    day = local_now(service).date() + dt.timedelta(days=days_ahead)
    while not is_working_day(service, day):
        day += dt.timedelta(days=1)
    return day


def make_slots(service, consultant, day: dt.date, hours=(14, 15, 16, 17)) -> list:
    """Approved one-hour slots of `consultant` on `day` (local time of the service)."""
    from opora.scheduling.calendar import make_aware_local
    from opora.scheduling.models import Schedule, SchedulePeriod, Slot

    schedule, _ = Schedule.objects.get_or_create(
        service=service,
        consultant=consultant,
        month=day.replace(day=1),
        defaults={"status": Schedule.Status.APPROVED},
    )
    SchedulePeriod.objects.get_or_create(
        schedule=schedule,
        date=day,
        start_time=dt.time(hours[0]),
        defaults={"end_time": dt.time(hours[-1] + 1)},
    )
    return [
        Slot.objects.create(
            service=service,
            consultant=consultant,
            schedule=schedule,
            starts_at=make_aware_local(service, day, dt.time(h)),
            ends_at=make_aware_local(service, day, dt.time(h + 1)),
        )
        for h in hours
    ]


def synthetic_iin(birth: dt.date, sex: str, serial: int) -> str:
    """A valid synthetic IIN: the first serial from `serial` on that has a control digit."""
    from opora.registry.iin import make_iin

    while (value := make_iin(birth, sex, serial)) is None:
        serial += 1
    return value


PARENT_NAME = ("Ахметова", "Айгерим", "Сериковна")


@pytest.fixture
def registry_parent(transactional_db):
    """An active ЦБД benefit recipient (a mother) raising a disabled child: an eligible caller."""
    from opora.registry.models import RegistryRecord

    last, first, patronymic = PARENT_NAME
    return RegistryRecord.objects.create(
        source="cbd",
        iin=synthetic_iin(dt.date(1988, 3, 14), "F", 1234),
        child_iin=synthetic_iin(dt.date(2016, 9, 2), "M", 4321),
        last_name=last,
        first_name=first,
        patronymic=patronymic,
        relation="мать",
        status="active",
    )
