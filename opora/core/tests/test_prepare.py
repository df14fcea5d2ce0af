"""`opora prepare` (make run): each step runs when it has something to do and only then."""

import datetime as dt
import os
import shutil
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from opora.core.management.commands import prepare
from opora.core.models import Service
from opora.demo.factories import make_admin, make_service_1411

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(monkeypatch):
    """The commands `prepare` calls; the demo is replaced by a small stand-in that prints logins
    and creates what `demo_loaded` looks for. The others run for real."""
    made: list[str] = []
    real = prepare.call_command

    def spy(name, *args, **kwargs):
        made.append(name)
        if name == "demo":
            if not Service.objects.filter(code="kz-1411").exists():
                make_service_1411()
            if not get_user_model().objects.filter(username="admin").exists():
                make_admin(username="admin")
            kwargs["stdout"].write("Logins: admin demo-admin-2026\n")
            return None
        return real(name, *args, **kwargs)

    monkeypatch.setattr(prepare, "call_command", spy)
    return made


@pytest.fixture
def var(tmp_path, settings):
    """Own var/ and static folders; the static sources: the apps' and one folder of our own."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "site.css").write_text("body { color: black; }")
    settings.VAR_DIR = tmp_path / "var"
    settings.STATIC_ROOT = tmp_path / "var" / "static"
    settings.STATICFILES_DIRS = [source]
    return tmp_path


def run_prepare(*args: str) -> str:
    out = StringIO()
    call_command("prepare", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_sources(tmp_path, monkeypatch):
    """A copy of the demo's source files that the test may edit."""
    root = tmp_path / "opora"
    for path in {p for pattern in prepare.DEMO_SOURCES for p in prepare.OPORA_DIR.glob(pattern)}:
        target = root / path.relative_to(prepare.OPORA_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    monkeypatch.setattr(prepare, "OPORA_DIR", root)
    return root


def test_nothing_pending_on_a_migrated_database():
    assert prepare.pending_migrations() == []


def test_an_unapplied_migration_is_pending_and_migrate_runs(var, calls, monkeypatch):
    recorder = MigrationRecorder(connection)
    last = recorder.migration_qs.filter(app="core").order_by("-id").first()
    recorder.record_unapplied("core", last.name)
    assert prepare.pending_migrations() == [f"core.{last.name}"]
    # migrate is recorded but not run for real here: it would apply the migration again inside
    # the test's transaction.
    spy = prepare.call_command

    def without_migrate(name, *args, **kwargs):
        if name == "migrate":
            calls.append(name)
            return None
        return spy(name, *args, **kwargs)

    monkeypatch.setattr(prepare, "call_command", without_migrate)
    out = run_prepare("--no-demo")
    assert calls[0] == "migrate"
    assert "applied 1 migration(s)" in out


def test_migrate_is_skipped_when_nothing_is_pending(var, calls):
    out = run_prepare("--no-demo")
    assert "migrate" not in calls
    assert "migrate: nothing to apply" in out


def test_collectstatic_runs_first_then_only_when_a_static_file_changes(var, calls):
    run_prepare("--no-demo")
    assert calls.count("collectstatic") == 1
    assert (var / "var" / "static" / "site.css").read_text() == "body { color: black; }"

    out = run_prepare("--no-demo")
    assert calls.count("collectstatic") == 1
    assert "static files unchanged" in out

    changed = var / "src" / "site.css"
    changed.write_text("body { color: navy; }")
    later = changed.stat().st_mtime + 5  # collectstatic copies a file newer than its copy
    os.utime(changed, (later, later))
    run_prepare("--no-demo")
    assert calls.count("collectstatic") == 2
    assert (var / "var" / "static" / "site.css").read_text() == "body { color: navy; }"

    (var / "src" / "new.js").write_text("// new")
    run_prepare("--no-demo")
    assert calls.count("collectstatic") == 3


def test_collectstatic_runs_again_when_the_copies_are_gone(var, calls):
    run_prepare("--no-demo")
    shutil.rmtree(var / "var" / "static")
    run_prepare("--no-demo")
    assert calls.count("collectstatic") == 2
    assert (var / "var" / "static" / "site.css").exists()


def test_a_new_package_version_changes_the_static_fingerprint(var, monkeypatch):
    before = prepare.static_fingerprint()

    class Dist:
        metadata = {"Name": "django-something"}
        version = "9.9"

    real = prepare.importlib.metadata.distributions
    monkeypatch.setattr(prepare.importlib.metadata, "distributions", lambda: [*real(), Dist()])
    assert prepare.static_fingerprint() != before


def test_demo_runs_once_then_is_skipped_with_its_logins_printed_again(var, calls, demo_sources):
    first = run_prepare()
    assert calls.count("demo") == 1
    assert "Logins: admin demo-admin-2026" in first
    second = run_prepare()
    assert calls.count("demo") == 1
    assert "Logins: admin demo-admin-2026" in second
    assert "demo data already loaded and unchanged" in second


def test_demo_runs_again_when_its_source_changes(var, calls, demo_sources):
    run_prepare()
    module = demo_sources / "demo" / "management" / "commands" / "demo.py"
    module.write_text(module.read_text() + "\n# changed\n")
    run_prepare()
    assert calls.count("demo") == 2
    data = demo_sources / "demo" / "referrals.py"
    data.write_text(data.read_text() + "\n# changed\n")
    run_prepare()
    assert calls.count("demo") == 3


def test_demo_runs_again_when_its_data_is_gone_or_the_day_changes(
    var, calls, demo_sources, monkeypatch
):
    run_prepare()
    get_user_model().objects.filter(username="admin").delete()
    run_prepare()
    assert calls.count("demo") == 2

    tomorrow = prepare.timezone.localdate() + dt.timedelta(days=1)
    monkeypatch.setattr(prepare.timezone, "localdate", lambda *a, **k: tomorrow)
    run_prepare()
    assert calls.count("demo") == 3


def test_force_runs_every_step(var, calls, demo_sources):
    run_prepare()
    run_prepare("--force")
    assert calls == ["collectstatic", "demo", "migrate", "collectstatic", "demo"]
