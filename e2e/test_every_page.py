"""Every page a person uses, on the real demo (`opora demo`), in a real browser.

Staff: every demo login signs in through the login form, switches in the header to each service
it works in, and opens every GET page its role reaches — the header's menu, the links on those
pages (one of each kind) and the pages of a request in each state (new, booked, held with a
protocol and a recording, cancelled) — at 1280 px, in Russian; one login of each role again in
Kazakh and in English, each page family once. The public side: the portal, each service's pages,
the forms, both steps of self-booking, the private page in each state, the cancel page, a dead
short link and the client's room entry and device check, on a 360-px touch phone in ru, kk, en.

Each page must answer 200 (a dead short link: 404), pass axe-core, say its language in
`<html lang>`, show no raw time-zone name, no "---------" choice and no "None", and put its own
words (headings, labels, buttons, menus) in that language: no English phrase on a ru/kk page, no
Russian word but data (names) on an en page — a part marked `lang="ru"` (the regulations'
verbatim forms) says so and is left out. A public page must fit the phone and name its service in
the page's language. Every problem on every page is collected, so one run lists them all.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from io import StringIO
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import Resolver404, resolve, reverse
from playwright.sync_api import expect

from opora.accounts.models import User
from opora.consultations import services as consultations
from opora.consultations.models import Consultation, Protocol, Topic
from opora.consultations.tests.factories import make_live_consultation
from opora.core.models import Service
from opora.demo.management.commands.demo import demo_password
from opora.intake.models import ServiceRequest
from opora.intake.services import request_create
from opora.registry.models import RegistryRecord
from opora.scheduling import services as scheduling
from opora.scheduling.calendar import local_now
from opora.scheduling.models import Booking
from opora.scheduling.selectors import slot_nearest_free

from .conftest import e2e_db

pytestmark = e2e_db

DESK = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 360, "height": 780}, "has_touch": True, "is_mobile": True}
LOCALES = {"ru": "ru-RU", "kk": "kk-KZ", "en": "en-GB"}

# Every login the demo prints (`opora demo`), with its role; the fixture checks the list is whole.
LOGINS = {
    "operator": "operator",
    "coordinator": "coordinator",
    "consultant": "consultant",
    "head": "head",
    "authority": "authority",
    "admin": "admin",
    "security_officer": "security_officer",
    "operator-mordovia": "operator",
    "coordinator-mordovia": "coordinator",
    "head-mordovia": "head",
    "district-psychologist": "consultant",
    "district-social": "consultant",
}

# The staff pages a person opens with GET (opora/web, consultations, mail and messengers URLs);
# links to anything else (exports, downloads, POST endpoints, the admin site) are not followed.
STAFF_PAGES = {
    "home",
    "authority_home",
    "authority_journal",
    "audit_log",
    "breach_list",
    "operator_console",
    "operator_queue",
    "operator_request",
    "operator_book",
    "operator_confirmation",
    "operator_cancel",
    "coordinator_schedules",
    "coordinator_schedule_edit",
    "coordinator_handoff",
    "head_schedules",
    "deliveries",
    "referral_list",
    "referral_new",
    "referral_edit",
    "registry_requests",
    "registry_appeals",
    "journal",
    "consultant_day",
    "consultations:consultant_room",
    "consultations:consultant_room_for_booking",
    "consultations:protocol",
    "consultations:journal",
    "consultations:recordings",
    "consultations:recording_detail",
    "mail:written",
    "mail:thread",
    "mail:quarantine",
    "messengers:conversations",
    "messengers:conversation",
}

RAW_ZONE = re.compile(r"\b(?:Europe|Asia)/[A-Z]")
RAW_NONE = re.compile(r"\bNone\b(?! available)")  # Django admin's own English phrase
# The page's own words (not the data shown in it): headings, labels, buttons, column heads, menus.
# A part marked with another `lang` (the regulations' Russian column heads) says so to assistive
# technology and is left out.
UI_TEXT = """lang => [...document.querySelectorAll(
  'h1, h2, h3, h4, legend, label, button, th, summary, caption, dt, nav a, .button'
)].filter(e => e.getClientRects().length && e.closest('[lang]').lang === lang)
 .map(e => e.innerText).map(t => t.trim()).filter(Boolean)"""
ENGLISH_WORDS = re.compile(r"\b[A-Za-z]{3,}\s+[a-z]{3,}\b")
CYRILLIC_WORD = re.compile(r"[А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]{3,}")
VISIBLE_TEXT = """() => {
  const options = [...document.querySelectorAll('select option')].map(o => o.textContent);
  return document.body.innerText + '\\n' + options.join('\\n');
}"""


# --- data ---------------------------------------------------------------------------------------


@dataclass
class ServiceData:
    """One service's requests in each state (and their tokens, bookings, consultations)."""

    service: Service
    new: ServiceRequest
    booked: ServiceRequest
    booking: Booking
    held: ServiceRequest
    held_consultation: Consultation
    cancelled: ServiceRequest
    live: Consultation

    @property
    def requests(self) -> list[ServiceRequest]:
        return [self.new, self.booked, self.held, self.cancelled]


@dataclass
class Demo:
    services: dict[str, ServiceData]
    printed: str


def _eligible_person() -> tuple[str, str]:
    """An active ЦБД recipient of the synthetic registry: (IIN, full name)."""
    record = RegistryRecord.objects.filter(source="cbd", status="active").order_by("pk").first()
    assert record is not None
    name = " ".join(p for p in (record.last_name, record.first_name, record.patronymic) if p)
    return record.iin, name


def _request(service: Service, operator: User, n: int, **extra: Any) -> ServiceRequest:
    if service.requires_eligibility:
        iin, name = _eligible_person()
        return request_create(
            actor=operator,
            service=service,
            full_name=name,
            iin=iin,
            phone=f"+7 701 000 10 {n:02d}",
            typical_question="education",
            **extra,
        )
    return request_create(
        actor=operator,
        service=service,
        full_name=f"Тестова Анна {n}",
        phone=f"+7 927 000 10 {n:02d}",
        typical_question="education",
        **extra,
    )


def _record(service: Service, room: Consultation, consultant: User) -> None:
    """A short recording of the running consultation, for the head's recordings pages (the
    service records with a notice for the while; its own policy is put back)."""
    policy = service.recording_policy
    Service.objects.filter(pk=service.pk).update(recording_policy="notice")
    consultations.consultation_record_notice(consultation=Consultation.objects.get(pk=room.pk))
    recording = consultations.recording_start(
        actor=consultant, consultation=Consultation.objects.get(pk=room.pk), mime_type="video/webm"
    )
    consultations.recording_chunk_store(
        actor=consultant, recording=recording, seq=0, data=bytes.fromhex("1a45dfa3") + b"x" * 64
    )
    consultations.recording_finish(actor=consultant, recording=recording)
    Service.objects.filter(pk=service.pk).update(recording_policy=policy)
    connection.close()  # this thread's own connection


def _service_data(code: str, operator_name: str, consultant_name: str) -> ServiceData:
    service = Service.objects.get(code=code)
    operator = User.objects.get(username=operator_name)
    consultant = User.objects.get(username=consultant_name)

    # A parent's new request from the portal: anonymous where the service takes such requests.
    if service.allows_anonymous:
        new = request_create(
            actor=None,
            service=service,
            full_name="",
            phone="+7 927 000 20 01",
            is_anonymous=True,
            channel="portal",
            reason="Ребёнок не спит ночами",
            typical_question="education",
        )
    else:
        new = _request(service, operator, 1, channel="portal", reason="Ребёнок не спит ночами")

    def book(req: ServiceRequest) -> Booking:
        slot = slot_nearest_free(service=service, consultant=consultant)
        assert slot is not None, code
        return scheduling.booking_create(actor=operator, request=req, slot=slot)

    booked = _request(service, operator, 2)
    booking = book(booked)
    consultations.consultation_for_booking(booking=booking)

    held = _request(service, operator, 3)
    room = consultations.consultation_for_booking(booking=book(held))
    consultations.consultation_admit(consultation_id=room.pk, actor=consultant)
    # In a thread of its own: the recording's room events go through async_to_sync, which
    # cannot run in this thread, where Playwright's event loop is.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(_record, service, room, consultant).result()
    consultations.consultation_end(consultation_id=room.pk, actor=consultant)
    consultations.protocol_save(
        actor=consultant,
        consultation=room,
        reason="Вопрос о школе",
        topic=Topic.LEARNING,
        solution="Рекомендации по подготовке к школе",
        kind=Protocol.Kind.PRIMARY,
    )

    cancelled = _request(service, operator, 4)
    scheduling.booking_cancel(actor=operator, booking=book(cancelled), reason="Заболел ребёнок")

    live = make_live_consultation(service, consultant)
    for req in (new, booked, held, cancelled):
        req.refresh_from_db()
    return ServiceData(service, new, booked, booking, held, room, cancelled, live)


@pytest.fixture
def demo(transactional_db, settings, tmp_path) -> Demo:
    settings.OPORA_RECORDING_ROOT = str(tmp_path / "recordings")
    out = StringIO()
    call_command("demo", "--registry-rows", "200", "--consultants", "2", stdout=out)
    printed = out.getvalue()
    listed = re.findall(r"^  (\S+)\s+demo-\S+-2026\s", printed, re.M)
    assert sorted(listed) == sorted(LOGINS), "the demo prints other logins than this test signs in"
    services = {
        "kz-1411": _service_data("kz-1411", "operator", "consultant"),
        "mordovia": _service_data("mordovia", "operator-mordovia", "district-psychologist"),
    }
    return Demo(services, printed)


# --- checks -------------------------------------------------------------------------------------


@dataclass
class Sweep:
    """Checks pages and collects what is wrong with them, to fail once with the whole list."""

    axe_check: Any
    data_words: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    seen: int = 0
    axe_runs: int = 0
    axed: set[tuple[str, str]] = field(default_factory=set)

    def check(
        self,
        page: Any,
        where: str,
        *,
        status: int | None,
        lang: str,
        expected_status: int = 200,
        width: int | None = None,
        must_show: str = "",
        axe_key: tuple[str, str] | None = None,
    ) -> None:
        self.seen += 1
        if status != expected_status:
            self.problems.append(f"{where}: status {status}, expected {expected_status}")
            if status is not None and status >= 500:
                return
        html_lang = page.locator("html").get_attribute("lang")
        if html_lang != lang:
            self.problems.append(f"{where}: <html lang={html_lang!r}>, expected {lang!r}")
        text = page.evaluate(VISIBLE_TEXT)
        for name, pattern in (("a raw zone name", RAW_ZONE), ("«None»", RAW_NONE)):
            if match := pattern.search(text):
                self.problems.append(f"{where}: {name}: …{_around(text, match)}…")
        if "---------" in text:
            self.problems.append(f"{where}: a raw «---------» choice")
        for ui in page.evaluate(UI_TEXT, lang):
            words = CYRILLIC_WORD if lang == "en" else ENGLISH_WORDS
            if lang == "en":  # names of people, places and bodies are data, not the page's words
                ui = CYRILLIC_WORD.sub(
                    lambda m: "" if m.group(0) in self.data_words else m.group(0), ui
                )
            if words.search(ui):
                self.problems.append(f"{where}: not in {lang!r}: {ui[:80]!r}")
        if must_show and must_show not in text:
            self.problems.append(f"{where}: the service's name {must_show!r} is not shown")
        if width is not None:
            scroll = page.evaluate("document.documentElement.scrollWidth")
            if scroll > width:
                wide = page.evaluate(
                    """w => [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > w + 1).slice(0, 4)
                    .map(e => e.tagName + '#' + e.id + '.' + e.className)""",
                    width,
                )
                self.problems.append(f"{where}: {scroll} px wide on a {width}-px screen: {wide}")
        if axe_key is not None:
            if axe_key in self.axed:
                return  # the same page of the same service, already checked for this role
            self.axed.add(axe_key)
        self.axe_runs += 1
        try:
            self.axe_check(page, where=where)
        except pytest.fail.Exception as failure:
            self.problems.append(str(failure))

    def done(self) -> None:
        print(f"{self.seen} pages checked, {self.axe_runs} with axe-core")
        assert self.seen, "no page was checked"
        if self.problems:
            pytest.fail(f"{len(self.problems)} problems:\n" + "\n".join(self.problems))


def _around(text: str, match: re.Match) -> str:
    return text[max(0, match.start() - 40) : match.end() + 40].replace("\n", " ")


def _set_language(page: Any, lang: str, *, tap: bool = False) -> None:
    """The header's language form, as a person uses it."""
    page.locator("#language-select").select_option(lang)
    button = page.locator("#language-button")
    button.tap() if tap else button.click()
    expect(page.locator("html")).to_have_attribute("lang", lang)


# --- staff --------------------------------------------------------------------------------------


def _sign_in(page: Any, sweep: Sweep, username: str, lang: str) -> None:
    """The login form (checked like any page, in the page's language), filled in and sent."""
    if not page.url.endswith("/login/"):
        page.goto("/login/")
    sweep.check(page, f"login page [{lang}]", status=200, lang=lang, axe_key=("", "/login/"))
    form = page.locator("#login-form")
    form.locator("#id_username").fill(username)
    form.locator("#id_password").fill(demo_password(username))
    form.locator("#login-button").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def _page_name(url: str) -> tuple[str, str] | None:
    """(URL name, path) of a staff page this sweep opens, or None."""
    parts = urlsplit(url)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    name = match.view_name
    return (name, parts.path) if name in STAFF_PAGES else None


def _seeds(data: ServiceData, role: str, username: str) -> list[str]:
    """The pages of the demo requests this role works with (beyond what the menus link to)."""
    urls: list[str] = []
    if role in ("operator", "head", "admin"):
        urls += [reverse("operator_request", args=[r.pk]) for r in data.requests]
        urls += [
            reverse("operator_book", args=[data.new.pk]),
            reverse("operator_confirmation", args=[data.booked.pk]),
            reverse("operator_cancel", args=[data.booked.pk]),
        ]
    consultant = data.booking.slot.consultant
    if role == "consultant" and consultant.username == username:
        day = data.booking.slot.starts_at.astimezone(data.service.tz).date()
        urls += [
            f"{reverse('consultant_day')}?date={day:%Y-%m-%d}",
            reverse("consultations:consultant_room", args=[data.live.pk]),
            reverse("consultations:protocol", args=[data.held_consultation.pk]),
        ]
    if role == "admin":
        # The admin lands in the admin site; the staff pages are opened from their addresses.
        urls += [
            reverse(name)
            for name in (
                "operator_console",
                "operator_queue",
                "coordinator_schedules",
                "coordinator_handoff",
                "head_schedules",
                "deliveries",
                "authority_home",
                "referral_list",
                "registry_requests",
                "consultations:journal",
                "consultations:recordings",
                "mail:written",
                "mail:quarantine",
            )
        ]
    if role in ("coordinator", "admin"):
        month = local_now(data.service).date().replace(day=1)
        urls.append(reverse("coordinator_schedule_edit", args=[consultant.pk, f"{month:%Y-%m}"]))
    return urls


def _links(page: Any) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    return [h for h in hrefs if h.startswith(page.url.split("/", 3)[0] + "//")]


def _sweep_staff(
    page: Any,
    sweep: Sweep,
    demo: Demo,
    username: str,
    lang: str,
    live_url: str,
    *,
    every_service: bool = True,
    done: set[str] | None = None,
) -> set[str]:
    """Open every page the signed-in `username` reaches — in each of its services, switched to
    in the header, unless `every_service` is off — and check it; return the page names opened.

    `done` (page names and request pages already checked by another login) is skipped and
    added to: a page family checked once.
    """
    role = LOGINS[username]
    opened: set[str] = set()
    page.goto("/")
    switcher = page.locator("#service-select")
    if every_service and switcher.count():
        choices = switcher.locator("option").evaluate_all("os => os.map(o => o.value)")
    else:
        choices = [""]
    for choice in choices:
        if choice and switcher.input_value() != choice:
            switcher.select_option(choice)
            page.locator("#service-button").click()
            expect(page.locator("#service-select")).to_have_value(choice)
        user = User.objects.get(username=username)
        current = user.current_service or user.services.order_by("pk").first()
        code = current.code if current else "—"
        data = demo.services.get(code)
        queue = ["/"] + (_seeds(data, role, username) if data is not None else [])
        kinds: set[str] = set()
        visited: set[str] = set()
        while queue:
            url = queue.pop(0)
            if url in visited or (done is not None and url in done):
                continue
            visited.add(url)
            response = page.goto(urljoin(live_url + "/", url.lstrip("/")))
            parts = urlsplit(page.url)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path != url and path in visited:
                continue  # a redirect to a page already checked (the start page from "/")
            visited.add(path)
            sweep.check(
                page,
                f"{username} in {code} [{lang}] {path}",
                status=response.status if response else None,
                lang=lang,
                axe_key=(code, path),
            )
            if done is not None:
                done.add(url)
            if named := _page_name(page.url):
                opened.add(named[0])
                kinds.add(named[0])
                if done is not None:
                    done.add(named[0])
            for link in _links(page):
                found = _page_name(link)
                if found is None or found[0] in kinds or (done is not None and found[0] in done):
                    continue
                kinds.add(found[0])
                queue.append(found[1])
    return opened


def _data_words() -> set[str]:
    """Words of the data the staff pages show (names of people and bodies, specialties): they
    stay as written whatever the page's language."""
    from opora.intake.models import Referral
    from opora.messengers.models import Conversation

    texts: list[str] = ["ЦБД ЦБДИ"]  # the registries' own names
    for u in User.objects.all():
        texts += [u.last_name, u.first_name, u.patronymic, u.specialty]
    texts += list(Referral.objects.values_list("name", flat=True))
    texts += list(Conversation.objects.values_list("display_name", flat=True))
    texts += [r.full_name for r in ServiceRequest.objects.all()]
    return {w for t in texts for w in CYRILLIC_WORD.findall(t or "")}


def _staff_context(browser: Any, live_server: Any) -> Any:
    context = browser.new_context(base_url=live_server.url, locale="ru-RU", **DESK)
    context.set_default_timeout(10_000)
    return context


# The logins of one role check together: the second one opens every page again (its own
# services, its own menu) but axe-core runs once per page of a service for the role.
ROLE_GROUPS = {
    role: [u for u, r in LOGINS.items() if r == role]
    for role in (
        "operator",
        "coordinator",
        "consultant",
        "head",
        "authority",
        "admin",
        "security_officer",
    )
}


@pytest.mark.parametrize("role", list(ROLE_GROUPS))
def test_staff_pages_in_russian(browser, live_server, axe_check, demo, role):
    sweep = Sweep(axe_check)
    for username in ROLE_GROUPS[role]:
        context = _staff_context(browser, live_server)
        try:
            page = context.new_page()
            _sign_in(page, sweep, username, "ru")
            opened = _sweep_staff(page, sweep, demo, username, "ru", live_server.url)
        finally:
            context.close()
        assert opened, username
    sweep.done()


# One login of each role, in the district service where the written requests and messenger
# conversations are; each page family is checked once per language.
REPRESENTATIVES = [
    "operator-mordovia",
    "coordinator-mordovia",
    "head-mordovia",
    "district-psychologist",
    "consultant",
    "authority",
    "security_officer",
    "admin",
]


@pytest.mark.parametrize("lang", ["kk", "en"])
def test_staff_pages_in_kazakh_and_english(browser, live_server, axe_check, demo, lang):
    sweep = Sweep(axe_check, data_words=_data_words())
    done: set[str] = set()
    for username in REPRESENTATIVES:
        context = _staff_context(browser, live_server)
        try:
            page = context.new_page()
            page.goto("/login/")
            _set_language(page, lang)
            _sign_in(page, sweep, username, lang)
            _sweep_staff(
                page, sweep, demo, username, lang, live_server.url, every_service=False, done=done
            )
        finally:
            context.close()
    assert {
        "operator_request",
        "consultations:protocol",
        "consultations:recording_detail",
        "mail:thread",
        "messengers:conversation",
    } <= done
    sweep.done()


# --- the public side ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_public_pages_on_a_phone(browser, live_server, axe_check, demo, lang):
    sweep = Sweep(axe_check)
    context = browser.new_context(base_url=live_server.url, locale=LOCALES[lang], **PHONE)
    context.grant_permissions(["camera", "microphone"])
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto("/s/")
        if lang != "ru":
            _set_language(page, lang, tap=True)

        def visit(url: str, where: str, *, name: str = "", expected: int = 200) -> None:
            response = page.goto(url)
            sweep.check(
                page,
                f"{where} [{lang}] {url}",
                status=response.status if response else None,
                lang=lang,
                expected_status=expected,
                width=360,
                must_show=name,
            )

        visit("/s/", "portal index")
        for code, data in demo.services.items():
            service = data.service
            name = service.text("name", lang)
            visit(f"/s/{code}/", "service page", name=name)
            visit(f"/s/{code}/request/", "request form", name=name)
            month = f"{local_now(service):%Y-%m}"
            visit(f"/s/{code}/schedule/{month}/", "published schedule", name=name)
            if service.allows_anonymous:
                visit(f"/s/{code}/anonymous/", "anonymous form", name=name)
            if service.allows_self_booking:
                visit(f"/s/{code}/book/", "self-booking step 1", name=name)
            states = {
                "new": data.new,
                "booked": data.booked,
                "held": data.held,
                "cancelled": data.cancelled,
            }
            visit(f"/s/r/{data.new.public_token}/received/", "received", name=name)
            for state, req in states.items():
                visit(f"/s/r/{req.public_token}/", f"private page ({state})", name=name)
            visit(f"/s/r/{data.new.public_token}/book/", "choose a time", name=name)
            visit(f"/s/r/{data.booked.public_token}/cancel/", "cancel page", name=name)
            visit(f"/c/{data.live.client_token}/", "room entry", name=name)
            visit(f"/c/{data.live.client_token}/check/", "device check", name=name)

        # Self-booking step 2: step 1 filled in and sent with taps.
        district = demo.services["mordovia"].service
        page.goto(f"/s/{district.code}/book/")
        page.locator("#id_full_name").fill("Тестова Анна Петровна")
        page.locator("#id_email").fill("parent-sweep@example.org")
        page.locator("#id_consent").tap()
        page.locator("#request-submit").tap()
        expect(page).to_have_url(re.compile(r"/book/time/$"))
        sweep.check(
            page,
            f"self-booking step 2 [{lang}]",
            status=200,
            lang=lang,
            width=360,
            must_show=district.text("name", lang),
        )
        visit("/l/no-such-link", "dead short link", expected=404)
    finally:
        context.close()
    sweep.done()
