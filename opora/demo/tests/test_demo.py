"""`opora demo` builds a usable installation and is safe to run twice.

Not marked `postgres`: the in-process tests run on whichever database the suite uses (PostgreSQL
under `make test`, the embedded SQLite without DATABASE_URL), and the last test always runs the
`opora` command on an embedded SQLite file the way `make run` does. So the registry import is
exercised both through COPY and through the generic path.
"""

import datetime as dt
import os
import re
import sqlite3
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from opora.accounts.models import Role, User
from opora.core.models import AuditEvent, Organisation, Service
from opora.demo.management.commands.demo import demo_password, month_start
from opora.registry.models import ImportRun, RegistryRecord
from opora.registry.services import eligibility_check
from opora.scheduling.models import Schedule, SchedulePeriod, Slot

SMALL = ["--registry-rows", "500", "--consultants", "3"]
SAMPLE = re.compile(r"^\s+(\d{12})\s+(\S.*?)\s{2,}(eligible|refused): ", re.MULTILINE)
COUNTED = (
    Organisation,
    Service,
    User,
    Schedule,
    SchedulePeriod,
    Slot,
    RegistryRecord,
    ImportRun,
    AuditEvent,
)


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", *SMALL, *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in COUNTED}


@pytest.mark.django_db
def test_demo_second_run_adds_nothing_and_keeps_changed_passwords():
    run_demo()
    before = counts()
    operator = User.objects.get(username="operator")
    operator.set_password("changed-by-the-tester-1")
    operator.save()

    output = run_demo()

    assert counts() == before
    assert "already loaded, skipped" in output
    operator.refresh_from_db()
    assert operator.check_password("changed-by-the-tester-1")

    run_demo("--reset-passwords")
    operator.refresh_from_db()
    assert operator.check_password(demo_password("operator"))


@pytest.mark.django_db
def test_demo_makes_one_login_per_role_with_the_printed_passwords():
    output = run_demo()
    service = Service.objects.get(code="kz-1411")
    assert service.eligibility_rule == Service.Eligibility.KZ_REGISTRY
    assert (service.slot_minutes, service.handoff_time) == (60, dt.time(17, 45))

    for role in Role.values:
        user = User.objects.get(username=role)
        assert user.role == role
        assert user.check_password(demo_password(role))
        assert re.search(rf"^\s+{role}\s+{re.escape(demo_password(role))}\s", output, re.M)
        assert user.services.filter(pk=service.pk).exists()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert not User.objects.get(username="operator").is_staff
    # The logins table comes last, where a person trying the demo looks for it.
    assert output.rstrip().splitlines()[-1].lstrip().startswith("admin ")


@pytest.mark.django_db
def test_demo_consultants_have_slots_this_month_and_next():
    run_demo()
    service = Service.objects.get(code="kz-1411")
    today = timezone.localdate(timezone=service.tz)
    consultants = User.objects.filter(role=Role.CONSULTANT, services=service)
    assert consultants.count() == 4  # `consultant` and the three asked for

    for month in (month_start(today), month_start(today, 1)):
        start = dt.datetime.combine(month, dt.time(0), tzinfo=service.tz)
        end = dt.datetime.combine(month_start(month, 1), dt.time(0), tzinfo=service.tz)
        for consultant in consultants:
            schedule = Schedule.objects.get(service=service, consultant=consultant, month=month)
            assert schedule.status == Schedule.Status.APPROVED
            slots = Slot.objects.filter(
                consultant=consultant, starts_at__gte=start, starts_at__lt=end
            )
            # Four one-hour slots (14:00–18:00) on every working day of the month.
            assert slots.count() == 4 * schedule.periods.count() > 0
            assert {s.starts_at.astimezone(service.tz).hour for s in slots} == {14, 15, 16, 17}


@pytest.mark.django_db
def test_printed_sample_iins_answer_as_printed():
    output = run_demo()
    samples = SAMPLE.findall(output)
    assert any(answer == "eligible" for _, _, answer in samples)
    assert RegistryRecord.objects.filter(source="cbd").count() == 350
    assert RegistryRecord.objects.filter(source="cbdi").count() == 150

    service = Service.objects.get(code="kz-1411")
    operator = User.objects.get(username="operator")
    for iin, full_name, answer in samples:
        result = eligibility_check(actor=operator, service=service, iin=iin, full_name=full_name)
        assert result.eligible is (answer == "eligible"), (iin, result.reason)


def test_demo_command_twice_on_the_embedded_sqlite_like_make_run(tmp_path: Path):
    env = {
        **os.environ,
        "OPORA_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "opora.settings.local",
    }
    env.pop("DATABASE_URL", None)

    def opora(*args: str) -> str:
        done = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            [sys.executable, "-m", "opora.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def table_counts() -> dict[str, int]:
        tables = ["accounts_user", "scheduling_schedule", "scheduling_slot"]
        tables += ["registry_registryrecord", "registry_importrun", "core_auditevent"]
        with sqlite3.connect(tmp_path / "opora.sqlite3") as db:
            return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}  # noqa: S608

    opora("migrate", "-v0")
    opora("demo", *SMALL)
    first = table_counts()
    second_output = opora("demo", *SMALL)

    assert table_counts() == first
    assert first["registry_registryrecord"] == 500
    assert first["scheduling_slot"] > 0
    assert "already loaded, skipped" in second_output
    assert SAMPLE.search(second_output)
