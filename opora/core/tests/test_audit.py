"""Audit by construction: one enumeration of event types, no ad-hoc names, every admin audited."""

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.utils import timezone

from opora.accounts.models import Role
from opora.core.admin_base import AuditedAdminMixin
from opora.core.audit import AuditEventType, audit_record
from opora.core.models import AuditEvent
from opora.demo.factories import make_district_service, make_user
from opora.notifications.models import Notification

OPORA = Path(__file__).resolve().parents[2]
AUDIT_CALLS = {"audit_record", "audit_event"}


def _sources() -> list[Path]:
    return [
        p
        for p in OPORA.rglob("*.py")
        if "tests" not in p.parts
        and "migrations" not in p.parts
        and p != OPORA / "core" / "audit.py"
    ]


def test_event_type_values_are_unique_and_dotted():
    values = [member.value for member in AuditEventType]
    assert len(values) == len(set(values))
    assert all(v.count(".") == 1 and v == v.lower() for v in values)
    # The read of a request has one name; the admin's old one is gone.
    assert "intake.request_viewed" not in values
    assert AuditEventType.REQUEST_VIEWED.value == "request.viewed"


def test_no_call_site_writes_an_event_name_as_a_string():
    """Every event name in the code is a member of AuditEventType: no `audit_record(...,
    event_type="x.y")`, no f-string name, and no name kept as a string constant elsewhere."""
    names = {member.value for member in AuditEventType} | {"intake.request_viewed"}
    problems = []
    for path in _sources():
        tree = ast.parse(path.read_text(), filename=str(path))
        where = path.relative_to(OPORA.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in names:
                problems.append(f"{where}:{node.lineno} string {node.value!r}")
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name not in AUDIT_CALLS:
                    continue
                for kw in node.keywords:
                    if kw.arg == "event_type" and isinstance(
                        kw.value, ast.Constant | ast.JoinedStr
                    ):
                        problems.append(f"{where}:{node.lineno} event_type is not a member")
    assert problems == []


def test_an_unknown_event_name_is_refused(db):
    service = make_district_service()
    with pytest.raises(ValueError, match="AuditEventType"):
        audit_record(actor=None, event_type="made.up", subject=service)  # type: ignore[arg-type]
    assert not AuditEvent.objects.exists()
    event = audit_record(actor=None, event_type=AuditEventType.HANDOFF_SENT, subject=service)
    assert AuditEvent.objects.get(pk=event.pk).event_type == "handoff.sent"


def test_every_registered_admin_is_audited():
    """A new admin without AuditedAdminMixin (ours or a third party's) fails here."""
    plain = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, AuditedAdminMixin)
    ]
    assert plain == []
    labels = {model._meta.label for model in admin.site._registry}
    assert {"auth.Group", "otp_totp.TOTPDevice", "axes.AccessAttempt"} <= labels


def _change_form_data(model_admin, obj, root) -> dict:
    """What the admin's change form of `obj` posts back unchanged."""
    request = RequestFactory().get("/")
    request.user = root
    form = model_admin.get_form(request, obj, change=True)(instance=obj)
    data: dict = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        if isinstance(field, forms.SplitDateTimeField):
            value = timezone.localtime(value) if value else None
            data[f"{name}_0"] = value.date().isoformat() if value else ""
            data[f"{name}_1"] = value.strftime("%H:%M:%S") if value else ""
        elif isinstance(value, list | tuple):
            data[name] = [str(getattr(v, "pk", v)) for v in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = str(value)
    return data


@pytest.fixture
def root_client(client, db):
    root = get_user_model().objects.create_superuser("root", "root@example.org", "pw-Strong-1")
    client.force_login(root)
    client.root = root
    return client


def test_changing_a_staff_members_role_and_services_in_the_admin_is_audited(root_client, service):
    other = make_district_service()
    staff = make_user(Role.OPERATOR, service=service, last_name="Секретова")
    # The form posts whole seconds back: a stored fraction would count as a change.
    staff.date_joined = staff.date_joined.replace(microsecond=0)
    staff.save(update_fields=["date_joined"])
    data = _change_form_data(admin.site._registry[get_user_model()], staff, root_client.root)
    data["role"] = Role.HEAD
    data["services"] = [str(service.pk), str(other.pk)]

    # Date and time as the page shows them (in the time zone the admin request works in).
    page = root_client.get(f"/admin/accounts/user/{staff.pk}/change/").content.decode()
    for part in ("date_joined_0", "date_joined_1"):
        data[part] = re.search(rf'name="{part}" value="([^"]*)"', page).group(1)
    response = root_client.post(f"/admin/accounts/user/{staff.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    staff.refresh_from_db()
    assert staff.role == Role.HEAD and set(staff.services.all()) == {service, other}

    [event] = AuditEvent.objects.filter(event_type=AuditEventType.ADMIN_CHANGED)
    assert event.actor_id == root_client.root.pk
    assert (event.subject_type, event.subject_id) == ("accounts.user", str(staff.pk))
    assert event.extra["via"] == "admin"
    # (The date joined, posted back as the page shows it, may count as changed too.)
    assert {"role", "services"} <= set(event.extra["fields"]) <= {"role", "services", "date_joined"}
    # Names of the fields, never their values.
    assert "Секретова" not in str(event.extra) and Role.HEAD not in str(event.extra)


def test_deleting_a_notification_in_the_admin_is_audited(root_client):
    notification = Notification.objects.create(
        channel=Notification.Channel.EMAIL,
        recipient="parent@example.org",
        body="synthetic",
        kind="test",
    )
    pk = notification.pk
    response = root_client.post(f"/admin/notifications/notification/{pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Notification.objects.filter(pk=pk).exists()
    [event] = AuditEvent.objects.filter(event_type=AuditEventType.ADMIN_DELETED)
    assert (event.subject_type, event.subject_id) == ("notifications.notification", str(pk))
    assert event.actor_id == root_client.root.pk
    assert "parent@example.org" not in str(event.extra)


def test_deleting_notifications_in_bulk_records_each(root_client):
    pks = [
        Notification.objects.create(
            channel=Notification.Channel.EMAIL, recipient=f"p{i}@example.org", body="x", kind="t"
        ).pk
        for i in range(2)
    ]
    response = root_client.post(
        "/admin/notifications/notification/",
        {"action": "delete_selected", "_selected_action": pks, "post": "yes"},
    )
    assert response.status_code == 302
    assert sorted(
        AuditEvent.objects.filter(event_type=AuditEventType.ADMIN_DELETED).values_list(
            "subject_id", flat=True
        )
    ) == sorted(str(pk) for pk in pks)


def test_a_calendar_override_deleted_through_the_service_admin_is_audited(root_client):
    from opora.core.models import CalendarOverride

    service = make_district_service()
    override = CalendarOverride.objects.create(
        service=service, date=dt.date(2030, 1, 2), is_working_day=False
    )
    model_admin = admin.site._registry[type(service)]
    request = RequestFactory().post("/")
    request.user = root_client.root
    formset_class = model_admin.get_formsets_with_inlines(request, service).__next__()[0]
    prefix = formset_class.get_default_prefix()
    data = {
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "1",
        f"{prefix}-0-id": str(override.pk),
        f"{prefix}-0-service": str(service.pk),
        f"{prefix}-0-date": "2030-01-02",
        f"{prefix}-0-note": "",
        f"{prefix}-0-DELETE": "on",
    }
    formset = formset_class(data, instance=service, prefix=prefix)
    assert formset.is_valid(), formset.errors
    model_admin.save_formset(request, None, formset, change=True)
    assert not CalendarOverride.objects.filter(pk=override.pk).exists()
    [event] = AuditEvent.objects.filter(event_type=AuditEventType.ADMIN_DELETED)
    assert (event.subject_type, event.subject_id) == ("core.calendaroverride", str(override.pk))


def test_setting_a_staff_members_password_in_the_admin_is_audited(root_client, service):
    staff = make_user(Role.OPERATOR, service=service)
    new = "another-Strong-pw-42"
    response = root_client.post(
        f"/admin/accounts/user/{staff.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    staff.refresh_from_db()
    assert staff.check_password(new)
    [event] = AuditEvent.objects.filter(event_type=AuditEventType.ADMIN_CHANGED)
    assert (event.subject_type, event.subject_id) == ("accounts.user", str(staff.pk))
    assert event.extra == {"via": "admin", "fields": ["password"]}
    assert new not in str(event.extra)
