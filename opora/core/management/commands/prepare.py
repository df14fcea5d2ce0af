"""`opora prepare`: what `make run` needs before serving, in one process, skipping what has nothing to do.

1. migrate — only when the migration plan has something to apply (checked in this process
   against the recorded migrations; `migrate` itself costs a second process and its checks);
2. collectstatic — only when the static sources changed since the last copy (a fingerprint of
   every file the static finders list, with size and modification time, and of the installed
   packages' versions);
3. the demo (`opora demo`) — only when the demo data is not in this database yet, its source
   changed, the day changed (the demo's schedules follow today), or a migration was just applied.
   Its printed logins are kept and printed again when it is skipped.

The fingerprints live in VAR_DIR/prepare/ (`make clean` or `--force` starts afresh).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import time
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

COMMANDS_DIR = Path(__file__).resolve().parent
OPORA_DIR = COMMANDS_DIR.parent.parent.parent
# The demo's source: the demo app's modules (the command, the data of each domain, the factories).
DEMO_SOURCES = ("demo/*.py", "demo/management/commands/*.py")
STATIC_IGNORE = ["CVS", ".*", "*~"]  # collectstatic's default ignore patterns


def stamp_dir() -> Path:
    return Path(settings.VAR_DIR) / "prepare"


def read_stamp(name: str) -> dict[str, Any]:
    try:
        return json.loads((stamp_dir() / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_stamp(name: str, data: dict[str, Any]) -> None:
    stamp_dir().mkdir(parents=True, exist_ok=True)
    path = stamp_dir() / f"{name}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def database_identity(alias: str = DEFAULT_DB_ALIAS) -> str:
    cfg = connections[alias].settings_dict
    return "|".join(str(cfg.get(key) or "") for key in ("ENGINE", "NAME", "HOST", "PORT"))


# --- 1. migrations ------------------------------------------------------------------------------


def pending_migrations(alias: str = DEFAULT_DB_ALIAS) -> list[str]:
    """The migrations `migrate` would apply (or unapply) on this database, as app.name."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


# --- 2. static files ----------------------------------------------------------------------------


def static_fingerprint() -> str:
    """Changes when a static source file is added, removed or changed, or a package's version
    changes (its static files may move without a new modification time)."""
    from django.contrib.staticfiles.finders import get_finders

    digest = hashlib.sha256()
    digest.update(f"{settings.STATIC_ROOT}|{settings.STORAGES['staticfiles']}".encode())
    entries = []
    for finder in get_finders():
        for path, storage in finder.list(STATIC_IGNORE):
            stat = Path(storage.path(path)).stat()
            entries.append(f"{path}|{storage.path(path)}|{stat.st_size}|{stat.st_mtime_ns}")
    for line in sorted(entries):
        digest.update(line.encode())
        digest.update(b"\n")
    packages = sorted(
        f"{dist.metadata['Name']}=={dist.version}" for dist in importlib.metadata.distributions()
    )
    digest.update("\n".join(packages).encode())
    return digest.hexdigest()


def static_is_current(fingerprint: str) -> bool:
    root = Path(settings.STATIC_ROOT)
    return (
        read_stamp("static").get("fingerprint") == fingerprint
        and root.is_dir()
        and any(root.iterdir())
    )


# --- 3. the demo --------------------------------------------------------------------------------


def demo_fingerprint() -> str:
    """The demo's source files, the database it went into, and today (its schedules cover this
    month and the next, counted from today)."""
    digest = hashlib.sha256()
    files = sorted({path for pattern in DEMO_SOURCES for path in OPORA_DIR.glob(pattern)})
    for path in files:
        digest.update(str(path.relative_to(OPORA_DIR)).encode())
        digest.update(path.read_bytes())
    digest.update(database_identity().encode())
    digest.update(timezone.localdate().isoformat().encode())
    return digest.hexdigest()


def demo_loaded() -> bool:
    """The demo's service and its administrator are in the database. Asked of the demo app's
    config: core is the floor of the import order and never imports the demo app."""
    if not apps.is_installed("opora.demo"):
        return False
    config: Any = apps.get_app_config("demo")  # the demo's DemoConfig, with its `loaded()`
    return bool(config.loaded())


class _Tee(io.StringIO):
    """Keeps what the demo prints and passes it on as it comes."""

    def __init__(self, out: Any) -> None:
        super().__init__()
        self.out = out

    def write(self, text: str) -> int:
        self.out.write(text)
        self.out.flush()
        return super().write(text)


class Command(BaseCommand):
    help = (
        "Migrate, collect static files and load the demo, each only when it has something to do "
        "(used by `make run`)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-demo", action="store_true", help="do not load the demo data")
        parser.add_argument("--force", action="store_true", help="run every step regardless")

    def handle(self, *args: Any, **opts: Any) -> None:
        force = opts["force"]
        migrated = self.migrate(force)
        self.collectstatic(force)
        if not opts["no_demo"]:
            self.demo(force or migrated)

    def step(self, name: str, started: float, text: str) -> None:
        self.stdout.write(f"prepare: {name}: {text} ({time.monotonic() - started:.1f} s)")

    def migrate(self, force: bool) -> bool:
        started = time.monotonic()
        pending = pending_migrations()
        if any("DatabaseCache" in c["BACKEND"] for c in settings.CACHES.values()):
            # The rate limits' table of the embedded default (nothing to do when it exists).
            call_command("createcachetable", verbosity=0)
        if not pending and not force:
            self.step("migrate", started, "nothing to apply")
            return False
        call_command("migrate", interactive=False, verbosity=0)
        self.step("migrate", started, f"applied {len(pending)} migration(s)")
        return bool(pending)

    def collectstatic(self, force: bool) -> None:
        started = time.monotonic()
        fingerprint = static_fingerprint()
        if static_is_current(fingerprint) and not force:
            self.step("collectstatic", started, "static files unchanged")
            return
        call_command("collectstatic", interactive=False, verbosity=0)
        write_stamp("static", {"fingerprint": fingerprint})
        self.step("collectstatic", started, "copied")

    def demo(self, force: bool) -> None:
        started = time.monotonic()
        fingerprint = demo_fingerprint()
        stamp = read_stamp("demo")
        if not force and stamp.get("fingerprint") == fingerprint and demo_loaded():
            self.stdout.write(stamp.get("output", ""), ending="")
            self.step("demo", started, "demo data already loaded and unchanged")
            return
        tee = _Tee(self.stdout)
        call_command("demo", stdout=tee)
        write_stamp("demo", {"fingerprint": fingerprint, "output": tee.getvalue()})
        self.step("demo", started, "loaded")
