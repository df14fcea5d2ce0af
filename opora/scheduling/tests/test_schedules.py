import datetime as dt
import io

import openpyxl
import pytest

from opora.accounts.models import Role
from opora.core.errors import DomainError, PermissionDenied
from opora.core.models import AuditEvent, CalendarOverride
from opora.demo.factories import make_consultant, make_user
from opora.scheduling import selectors, services
from opora.scheduling.calendar import to_local
from opora.scheduling.models import Schedule, SchedulePeriod, Slot
from opora.scheduling.services import ScheduleInvalid

D, T = dt.date, dt.time
MARCH = D(2026, 3, 1)  # 9 March (8 March moved) and 23–25 March (Nauryz) are days off


def xlsx(rows, header=("Консультант", "Дата", "С", "До")) -> io.BytesIO:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out


@pytest.mark.django_db
class TestScheduleSave:
    def test_coordinator_saves_periods(self, service, coordinator, consultant):
        schedule = services.schedule_save(
            actor=coordinator,
            service=service,
            consultant=consultant,
            month=D(2026, 3, 17),
            periods=[(D(2026, 3, 3), T(14), T(18)), (D(2026, 3, 4), T(14), T(16))],
        )
        assert schedule.month == MARCH and schedule.status == Schedule.Status.DRAFT
        assert [(p.date, p.start_time, p.end_time) for p in schedule.periods.all()] == [
            (D(2026, 3, 3), T(14), T(18)),
            (D(2026, 3, 4), T(14), T(16)),
        ]
        assert AuditEvent.objects.filter(event_type="schedule.saved").count() == 1

    def test_saving_again_replaces_periods(self, service, coordinator, consultant):
        kw = {"actor": coordinator, "service": service, "consultant": consultant, "month": MARCH}
        services.schedule_save(**kw, periods=[(D(2026, 3, 3), T(14), T(18))])
        schedule = services.schedule_save(**kw, periods=[(D(2026, 3, 5), T(15), T(17))])
        assert list(schedule.periods.values_list("date", flat=True)) == [D(2026, 3, 5)]
        assert Schedule.objects.count() == 1

    def test_every_error_names_the_date_and_problem(self, service, coordinator, consultant):
        with pytest.raises(ScheduleInvalid) as info:
            services.schedule_save(
                actor=coordinator,
                service=service,
                consultant=consultant,
                month=MARCH,
                periods=[
                    (D(2026, 3, 23), T(14), T(18)),  # Nauryz
                    (D(2026, 3, 7), T(14), T(18)),  # Saturday
                    (D(2026, 3, 3), T(12), T(15)),  # before 14:00
                    (D(2026, 4, 1), T(14), T(18)),  # another month
                    (D(2026, 3, 4), T(17), T(15)),  # reversed
                    (D(2026, 3, 5), T(14), T(16)),
                    (D(2026, 3, 5), T(15), T(17)),  # overlaps
                ],
            )
        errors = info.value.errors
        assert "23.03.2026 is not a working day" in errors
        assert "07.03.2026 is not a working day" in errors
        assert any("03.03.2026" in e and "12:00–15:00" in e and "14:00–18:00" in e for e in errors)
        assert any("01.04.2026" in e and "outside the month 03.2026" in e for e in errors)
        assert any("04.03.2026" in e and "ends before it starts" in e for e in errors)
        assert any("05.03.2026" in e and "overlap" in e for e in errors)
        assert len(errors) == 6
        assert "23.03.2026" in str(info.value.message)
        assert not Schedule.objects.exists()

    def test_override_day_off_is_refused(self, service, coordinator, consultant):
        CalendarOverride.objects.create(service=service, date=D(2026, 3, 12), is_working_day=False)
        with pytest.raises(ScheduleInvalid, match="12.03.2026 is not a working day"):
            services.schedule_save(
                actor=coordinator,
                service=service,
                consultant=consultant,
                month=MARCH,
                periods=[(D(2026, 3, 12), T(14), T(18))],
            )

    @pytest.mark.parametrize("role", [Role.OPERATOR, Role.CONSULTANT, Role.AUTHORITY])
    def test_other_roles_may_not_edit(self, service, consultant, role):
        actor = make_user(role, service=service)
        with pytest.raises(PermissionDenied):
            services.schedule_save(
                actor=actor, service=service, consultant=consultant, month=MARCH, periods=[]
            )

    def test_coordinator_of_another_service_may_not_edit(self, service, consultant):
        stranger = make_user(Role.COORDINATOR)
        with pytest.raises(PermissionDenied):
            services.schedule_save(
                actor=stranger, service=service, consultant=consultant, month=MARCH, periods=[]
            )

    def test_only_consultants_get_schedules(self, service, coordinator, operator):
        with pytest.raises(DomainError, match="not an active consultant"):
            services.schedule_save(
                actor=coordinator, service=service, consultant=operator, month=MARCH, periods=[]
            )

    def test_submitted_and_approved_schedules_cannot_be_edited(
        self, service, coordinator, head, consultant
    ):
        kw = {"actor": coordinator, "service": service, "consultant": consultant, "month": MARCH}
        schedule = services.schedule_save(**kw, periods=[(D(2026, 3, 3), T(14), T(18))])
        services.schedule_submit(actor=coordinator, schedule=schedule)
        with pytest.raises(DomainError, match="waiting for approval"):
            services.schedule_save(**kw, periods=[])
        services.schedule_approve(actor=head, schedule=schedule)
        with pytest.raises(DomainError, match="approved .* cannot be edited") as info:
            services.schedule_save(**kw, periods=[])
        assert info.value.code == "schedule_approved"
        assert SchedulePeriod.objects.count() == 1


@pytest.mark.django_db
class TestWorkflow:
    def test_submit_approve_creates_slots_inside_hours_on_working_days(
        self, service, coordinator, head, consultant
    ):
        schedule = services.schedule_save(
            actor=coordinator,
            service=service,
            consultant=consultant,
            month=MARCH,
            periods=[
                (D(2026, 3, 3), T(14), T(18)),
                (D(2026, 3, 4), T(14, 30), T(17)),  # 14:30 and 15:30; 16:30 does not fit
                (D(2026, 3, 5), T(14), T(18)),
            ],
        )
        # After saving, 5 March becomes a local day off: approval must not open it.
        CalendarOverride.objects.create(service=service, date=D(2026, 3, 5), is_working_day=False)
        services.schedule_submit(actor=coordinator, schedule=schedule)
        schedule = services.schedule_approve(actor=head, schedule=schedule)
        assert schedule.status == Schedule.Status.APPROVED and schedule.approved_by == head
        starts = [to_local(service, s.starts_at) for s in Slot.objects.order_by("starts_at")]
        assert [s.strftime("%d.%m %H:%M") for s in starts] == [
            "03.03 14:00",
            "03.03 15:00",
            "03.03 16:00",
            "03.03 17:00",
            "04.03 14:30",
            "04.03 15:30",
        ]
        assert all(s.utcoffset() == dt.timedelta(hours=5) for s in starts)
        for slot in Slot.objects.all():
            assert slot.ends_at - slot.starts_at == dt.timedelta(minutes=60)
            assert slot.consultant == consultant and slot.schedule == schedule and slot.is_open
        event = AuditEvent.objects.get(event_type="schedule.approved")
        assert event.extra == {"slots_created": 6, "periods_skipped": 1}

    def test_approval_skips_existing_slots(self, service, coordinator, head, consultant):
        from opora.scheduling.tests.factories import make_slot, other_service

        # The consultant already works 15:00–16:00 that day for another service.
        other = other_service(service)
        consultant.services.add(other)
        existing = make_slot(other, consultant, D(2026, 3, 3), T(15))
        schedule = services.schedule_save(
            actor=coordinator,
            service=service,
            consultant=consultant,
            month=MARCH,
            periods=[(D(2026, 3, 3), T(14), T(18))],
        )
        services.schedule_submit(actor=coordinator, schedule=schedule)
        services.schedule_approve(actor=head, schedule=schedule)
        assert Slot.objects.filter(consultant=consultant, service=service).count() == 3
        assert Slot.objects.get(consultant=consultant, starts_at=existing.starts_at) == existing

    def test_roles_of_the_workflow(self, service, coordinator, head, consultant, operator):
        schedule = services.schedule_save(
            actor=head,
            service=service,
            consultant=consultant,
            month=MARCH,
            periods=[(D(2026, 3, 3), T(14), T(18))],
        )
        with pytest.raises(PermissionDenied):
            services.schedule_submit(actor=operator, schedule=schedule)
        services.schedule_submit(actor=coordinator, schedule=schedule)
        with pytest.raises(PermissionDenied):
            services.schedule_approve(actor=coordinator, schedule=schedule)
        with pytest.raises(PermissionDenied):
            services.schedule_return(actor=coordinator, schedule=schedule, comment="нет")
        assert not Slot.objects.exists()

    def test_return_with_comment_then_edit_and_resubmit(
        self, service, coordinator, head, consultant
    ):
        kw = {"actor": coordinator, "service": service, "consultant": consultant, "month": MARCH}
        schedule = services.schedule_save(**kw, periods=[(D(2026, 3, 3), T(14), T(18))])
        with pytest.raises(DomainError, match="Only a submitted schedule"):
            services.schedule_approve(actor=head, schedule=schedule)
        services.schedule_submit(actor=coordinator, schedule=schedule)
        with pytest.raises(DomainError, match="comment is required"):
            services.schedule_return(actor=head, schedule=schedule, comment="  ")
        schedule = services.schedule_return(actor=head, schedule=schedule, comment="Добавьте 4.03")
        assert schedule.status == Schedule.Status.RETURNED and schedule.comment == "Добавьте 4.03"
        schedule = services.schedule_save(
            **kw, periods=[(D(2026, 3, 3), T(14), T(18)), (D(2026, 3, 4), T(14), T(18))]
        )
        schedule = services.schedule_submit(actor=coordinator, schedule=schedule)
        assert schedule.status == Schedule.Status.SUBMITTED and schedule.submitted_at

    def test_overdue_consultants_after_the_due_day(self, service, coordinator, consultant):
        late = make_consultant(service)
        make_consultant(service, is_active=False)
        april = D(2026, 4, 1)
        kw = {"actor": coordinator, "service": service, "month": april}
        services.schedule_submit(
            actor=coordinator,
            schedule=services.schedule_save(
                **kw, consultant=consultant, periods=[(D(2026, 4, 1), T(14), T(18))]
            ),
        )
        draft_only = make_consultant(service)
        services.schedule_save(**kw, consultant=draft_only, periods=[])
        assert selectors.schedule_overdue(service=service, month=april, today=D(2026, 3, 25)) == []
        overdue = selectors.schedule_overdue(service=service, month=april, today=D(2026, 3, 26))
        assert set(overdue) == {late, draft_only}
        assert selectors.schedules_for_month(service=service, month=april).count() == 2


@pytest.mark.django_db
class TestImportXlsx:
    def test_good_file_by_username_and_full_name(self, service, coordinator):
        a = make_consultant(service, username="ivanova", last_name="Иванова", first_name="Алёна")
        b = make_consultant(service, last_name="Петров", first_name="Олжас", patronymic="Серикович")
        rows = [
            ("ivanova", D(2026, 3, 3), "14:00", "18:00"),
            ("ivanova", "04.03.2026", T(14), T(16)),
            ("петров  олжас серикович", "2026-03-05", "14:00", "17:00"),
            (None, None, None, None),
            ("Иванова Алена", dt.datetime(2026, 3, 6), "15:00", "18:00"),
        ]
        schedules = services.schedule_import_xlsx(
            actor=coordinator, service=service, month=MARCH, file=xlsx(rows)
        )
        assert {s.consultant for s in schedules} == {a, b}
        assert list(
            SchedulePeriod.objects.filter(schedule__consultant=a).values_list("date", "start_time")
        ) == [(D(2026, 3, 3), T(14)), (D(2026, 3, 4), T(14)), (D(2026, 3, 6), T(15))]
        assert SchedulePeriod.objects.filter(schedule__consultant=b).count() == 1

    def test_bad_rows_are_all_listed_and_nothing_is_written(self, service, coordinator):
        make_consultant(service, username="ivanova")
        outsider = make_user(Role.CONSULTANT, username="outsider")
        rows = [
            ("ivanova", "03.03.2026", "14:00", "18:00"),  # row 2: good
            ("nobody", "03.03.2026", "14:00", "18:00"),  # row 3: unknown consultant
            ("ivanova", "31.02.2026", "14:00", "18:00"),  # row 4: no such date
            ("ivanova", "23.03.2026", "14:00", "18:00"),  # row 5: Nauryz
            ("ivanova", "04.03.2026", "9:00", "25:00"),  # row 6: bad time
            ("ivanova", "05.03.2026", "13:00", "18:00"),  # row 7: outside hours
            (outsider.username, "05.03.2026", "14:00", "18:00"),  # row 8: not of this service
            ("ivanova", "03.03.2026", "15:00", "16:00"),  # row 9: overlaps row 2
        ]
        with pytest.raises(ScheduleInvalid) as info:
            services.schedule_import_xlsx(
                actor=coordinator, service=service, month=MARCH, file=xlsx(rows)
            )
        errors = info.value.errors
        text = "\n".join(errors)
        assert "Row 3:" in text and "nobody" in text
        assert any(e.startswith("Row 4:") and "31.02.2026" in e for e in errors)
        assert "Row 5: 23.03.2026 is not a working day" in errors
        assert any(e.startswith("Row 6:") and "25:00" in e for e in errors)
        assert any(e.startswith("Row 7:") and "14:00–18:00" in e for e in errors)
        assert any(e.startswith("Row 8:") and "outsider" in e for e in errors)
        assert any("row 2" in e and "row 9" in e and "overlap" in e for e in errors)
        assert not any(e.startswith("Row 2:") for e in errors)
        assert "not imported" in str(info.value.message)
        assert not Schedule.objects.exists() and not SchedulePeriod.objects.exists()

    def test_not_an_xlsx(self, service, coordinator):
        with pytest.raises(DomainError, match="could not be read"):
            services.schedule_import_xlsx(
                actor=coordinator, service=service, month=MARCH, file=io.BytesIO(b"a;b;c")
            )

    def test_import_into_approved_schedule_is_refused(self, service, coordinator, head):
        c = make_consultant(service, username="ivanova")
        kw = {"actor": coordinator, "service": service, "month": MARCH, "consultant": c}
        schedule = services.schedule_save(**kw, periods=[(D(2026, 3, 3), T(14), T(18))])
        services.schedule_submit(actor=coordinator, schedule=schedule)
        services.schedule_approve(actor=head, schedule=schedule)
        with pytest.raises(ScheduleInvalid, match="Row 2: .*approved"):
            services.schedule_import_xlsx(
                actor=coordinator,
                service=service,
                month=MARCH,
                file=xlsx([("ivanova", "04.03.2026", "14:00", "18:00")]),
            )
        assert SchedulePeriod.objects.count() == 1

    def test_operator_may_not_import(self, service, operator):
        with pytest.raises(PermissionDenied):
            services.schedule_import_xlsx(
                actor=operator, service=service, month=MARCH, file=xlsx([])
            )
