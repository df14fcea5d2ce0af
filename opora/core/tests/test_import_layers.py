"""The import order of docs/ARCHITECTURE.md, enforced.

Every module under opora/ is parsed (no import is executed) and every import it makes — at the
top, inside a function or under `if TYPE_CHECKING` — is mapped to the app it names. An app may
import its own modules and the apps of a lower rank, never one of its own rank or higher. The
table below is the source of truth; the picture in docs/ARCHITECTURE.md is drawn from it and a
test here checks that they agree.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

OPORA_DIR = Path(__file__).resolve().parents[2]
ARCHITECTURE = OPORA_DIR.parent / "docs" / "ARCHITECTURE.md"

# Rank of each app, the floor first. Apps of one rank do not import each other.
RANKS: dict[str, int] = {
    # The floor: regions, organisations, services, audit, the shared helpers. Imports no app.
    "core": 0,
    # Staff and tokens (imports core); notifications (imports core; the channels plug in through
    # notifications/channels.py). Neither imports the other.
    "accounts": 1,
    "notifications": 1,
    "registry": 2,
    "intake": 3,
    "scheduling": 4,
    "consultations": 5,
    # The channels on top of the domains. mail and messengers add their staff screens to web's
    # (its decorators, selectors and common views), so they sit above it.
    # What the regulations produce from the domains: journals, hand-off and reports; the
    # questionnaires (instruments, scoring); the parents' evaluation of every service. The screens
    # and the API above present them.
    "journals": 6,
    "reports": 6,
    "surveys": 6,
    "quality": 6,
    "complaints": 6,
    "portal": 7,
    "web": 7,
    "api": 7,
    "mail": 8,
    "messengers": 8,
    # The demo installation and the test factories: may import anything, imported by no app
    # (only by tests, see below).
    "demo": 9,
}
# Project modules outside the apps. Configuration may be imported by every app and imports none;
# the entry points (URLs, ASGI/WSGI, the command line) sit above everything and no app imports them.
CONFIGURATION = {"settings", "celery"}
ENTRY_POINTS = {"urls", "asgi", "wsgi", "cli", "__init__", "__main__"}
TOP = max(RANKS.values()) + 1

# Test modules that check a floor helper through the features that use it, or a page that shows
# another channel's data. Each one is named with its reason; a new one needs a line here.
TEST_ALLOWED: dict[str, str] = {
    "core/tests/test_audit.py": "every registered admin audited, checked on staff and notifications",
    "core/tests/test_crawl.py": "crawls every URL of every app (needs the scheduling factories)",
    "core/tests/test_exports.py": "the export writer checked through the journals and hand-off",
    "core/tests/test_input_boundary.py": "the input boundary checked through every app's routes",
    "core/tests/test_links.py": "the signed links checked through consultations and .ics files",
    "core/tests/test_url_access.py": "every URL of every app asked as every role (access table)",
    "intake/tests/test_deferred_check.py": "a deferred registry check seen from a booking",
    "consultations/tests/test_rooms.py": "the room's API schema against the room's data",
    "consultations/tests/test_service_pages.py": "the staff pages of a service (web selectors)",
    "notifications/tests/test_outbox_worker_killed.py": "a failed delivery as the head sees it",
    "web/tests/test_contacts_kept.py": "contacts kept on a request that came by e-mail",
    "web/tests/test_deliveries.py": "failed deliveries of every outbox, mail's and messengers' too",
    "web/tests/test_service_switch.py": "switching services across web, mail and messengers",
}


@dataclass(frozen=True)
class Import:
    module: str  # path relative to opora/, e.g. "intake/services.py"
    line: int
    target: str  # dotted name, e.g. "opora.scheduling.models"


def app_of_path(rel: Path) -> str:
    """The app (or project module) a file under opora/ belongs to."""
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def app_of_name(dotted: str) -> str | None:
    parts = dotted.split(".")
    if parts[0] != "opora":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def rank(app: str) -> int:
    if app in CONFIGURATION:
        return -1
    if app in ENTRY_POINTS:
        return TOP
    return RANKS[app]


def is_test_module(rel: Path) -> bool:
    return "tests" in rel.parts[:-1] or rel.name.startswith("test_") or rel.name == "conftest.py"


def python_modules() -> list[Path]:
    return sorted(OPORA_DIR.rglob("*.py"))


def imports_of(path: Path, root: Path = OPORA_DIR) -> list[Import]:
    """Every import of opora in a module, wherever it is written, relative ones resolved."""
    rel = path.relative_to(root)
    package = ["opora", *rel.parts[:-1]]
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            # `from opora import scheduling` names the app in the alias.
            names = [f"{module}.{a.name}" for a in node.names] if module == "opora" else [module]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", ""))
            in ("import_module", "import_string")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        found += [
            Import(str(rel), getattr(node, "lineno", 0), name)
            for name in names
            if app_of_name(name)
        ]
    return found


def forbidden(item: Import, allowed: dict[str, str] = TEST_ALLOWED) -> str | None:
    """Why an import breaks the order, or None."""
    rel = Path(item.module)
    source, target = app_of_path(rel), app_of_name(item.target)
    assert target is not None
    if source == target:
        return None
    if target not in RANKS and target not in CONFIGURATION | ENTRY_POINTS:
        return f"{target} is not in the table of ranks"
    if is_test_module(rel) and (target == "demo" or item.module in allowed):
        return None
    if source in CONFIGURATION and target not in CONFIGURATION:
        return "configuration imports no app"
    if rank(target) < rank(source):
        return None
    return f"{source} (rank {rank(source)}) may not import {target} (rank {rank(target)})"


def violations(modules: list[Path], root: Path = OPORA_DIR) -> list[str]:
    return [
        f"{item.module}:{item.line} imports {item.target}: {why}"
        for path in modules
        for item in imports_of(path, root)
        if (why := forbidden(item))
    ]


def test_every_app_has_a_rank():
    apps = {app_of_path(p.relative_to(OPORA_DIR)) for p in python_modules()}
    unranked = apps - set(RANKS) - CONFIGURATION - ENTRY_POINTS
    assert not unranked, f"give these apps a rank in RANKS and in docs/ARCHITECTURE.md: {unranked}"
    installed = {
        name.split(".")[1] for name in settings.INSTALLED_APPS if name.startswith("opora.")
    }
    assert installed == set(RANKS)


def test_no_app_imports_a_higher_one():
    found = violations(python_modules())
    assert not found, "imports against docs/ARCHITECTURE.md:\n" + "\n".join(found)


def test_the_allowed_test_modules_exist_and_still_need_it():
    """An entry of the allow-list that no longer crosses the order is removed, not kept."""
    for module in TEST_ALLOWED:
        path = OPORA_DIR / module
        assert path.exists(), module
        crossing = [item for item in imports_of(path) if forbidden(item, allowed={})]
        assert crossing, f"{module} no longer needs its entry in TEST_ALLOWED"


def test_a_forbidden_import_is_caught(tmp_path):
    """The check itself on a module written for it: an import of a higher app, inside a
    function or relative, is reported; imports down the order are not."""
    module = tmp_path / "core" / "helpers.py"
    module.parent.mkdir()
    module.write_text(
        "from opora.core.models import Service\n"
        "from . import dates\n"
        "from opora import settings\n"
        "def f():\n"
        "    from opora.scheduling.models import Slot\n"
        "    from ..intake import services\n"
        "    import opora.demo.factories\n"
    )
    found = violations([module], root=tmp_path)
    assert [v.split(" imports ")[1].split(":")[0] for v in found] == [
        "opora.scheduling.models",
        "opora.intake",
        "opora.demo.factories",
    ]
    assert forbidden(Import("scheduling/services.py", 1, "opora.intake.models")) is None
    assert forbidden(Import("web/views/x.py", 1, "opora.portal.views")) is not None  # one rank
    assert forbidden(Import("intake/tests/test_x.py", 1, "opora.demo.factories")) is None
    assert forbidden(Import("intake/tests/test_x.py", 1, "opora.web.views")) is not None
    assert forbidden(Import("settings/base.py", 1, "opora.core.models")) is not None


def test_the_picture_agrees_with_the_table():
    """In the picture of docs/ARCHITECTURE.md every app appears once, higher ranks higher up and
    apps of one rank on one line."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split("## Domains and the direction of imports", 1)[1]
    picture = section.split("```", 2)[1].splitlines()
    line_of: dict[str, int] = {}
    for app in RANKS:
        lines = [
            i for i, line in enumerate(picture) if re.search(rf"(?<![\w-]){app}(?![\w-])", line)
        ]
        assert len(lines) == 1, f"{app} must appear exactly once in the picture"
        line_of[app] = lines[0]
    for a in RANKS:
        for b in RANKS:
            if RANKS[a] > RANKS[b]:
                assert line_of[a] < line_of[b], f"{a} must be drawn above {b}"
            elif RANKS[a] == RANKS[b]:
                assert line_of[a] == line_of[b], f"{a} and {b} must be drawn on one line"
