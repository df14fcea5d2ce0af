"""Every request is handed over exactly once, in the first hand-off after it was registered
(regulations 000 §11–12, 001 §9; issue 11): across 17:45, after it, midnight, a weekend and a
holiday, and when two runs race."""

import datetime as dt
import threading

import pytest
from django.db import connection

from opora.intake.models import ServiceRequest
from opora.scheduling import services, tasks
from opora.scheduling.calendar import ServiceCalendar, make_aware_local
from opora.scheduling.models import HandoffItem, HandoffRun
from opora.scheduling.tests.factories import make_request

D, T = dt.date, dt.time


def registered(service, date, time):
    req = make_request(service)
    ServiceRequest.objects.filter(pk=req.pk).update(
        created_at=make_aware_local(service, date, time)
    )
    req.refresh_from_db()
    return req


def run_of(req):
    return HandoffItem.objects.get(request=req).run


def assert_each_once_in_first_run(service):
    """Nothing lost, nothing twice, and each in the first run whose cut-off came after it."""
    runs = list(
        HandoffRun.objects.filter(service=service, sent_at__isnull=False).order_by("cutoff")
    )
    assert all(r.cutoff is not None for r in runs)
    for req in ServiceRequest.objects.filter(service=service):
        items = HandoffItem.objects.filter(request=req)
        first = next((r for r in runs if r.cutoff is not None and req.created_at < r.cutoff), None)
        if first is None:
            assert not items.exists()
        else:
            assert [i.run_id for i in items] == [first.pk], req.created_at
    for run in runs:
        assert run.request_count == run.items.count()


def tick_days(service, start, days):
    """The beat's minute ticks over the hand-off window of each day, as production runs them."""
    for n in range(days):
        day = start + dt.timedelta(days=n)
        for minute in (40, 45, 46, 50, 59):
            tasks.send_due_handoffs(now=make_aware_local(service, day, T(17, minute)))


@pytest.mark.django_db
class TestExactlyOnce:
    def test_across_the_close_1745_and_midnight(self, service):
        tue, wed = D(2026, 3, 10), D(2026, 3, 11)
        before = registered(service, tue, T(16, 59))
        after_close = registered(service, tue, T(17, 10))
        after_run = registered(service, tue, T(17, 50))  # a call after the hand-off
        night = registered(service, tue, T(23, 59))  # a letter at night
        after_midnight = registered(service, wed, T(0, 1))
        wed_day = registered(service, wed, T(12, 0))
        tick_days(service, tue, 2)
        assert run_of(before).date == tue
        for req in (after_close, after_run, night, after_midnight, wed_day):
            assert run_of(req).date == wed
        assert HandoffItem.objects.count() == 6
        assert_each_once_in_first_run(service)

    def test_weekend_and_holiday_lose_nothing(self, service):
        # 2026-03-20 is a Friday; the 21st–23rd are Nauryz holidays with the weekend (KZ calendar).
        fri = D(2026, 3, 20)
        calendar = ServiceCalendar(service)
        days_off = [fri + dt.timedelta(days=n) for n in range(1, 4)]
        assert not any(calendar.is_working_day(d) for d in days_off)
        reqs = [
            registered(service, fri, T(17, 30)),
            registered(service, fri, T(22, 0)),
            registered(service, days_off[1], T(3, 0)),  # a letter on Sunday night
            registered(service, days_off[2], T(18, 0)),  # after a run on the holiday
        ]
        tick_days(service, fri, 6)
        assert_each_once_in_first_run(service)
        assert all(HandoffItem.objects.filter(request=r).count() == 1 for r in reqs)
        # The last one, registered on the holiday evening, goes on the next working day.
        assert run_of(reqs[3]).date == D(2026, 3, 24)

    def test_day_off_without_waiting_requests_sends_nothing(self, service):
        sat = D(2026, 3, 14)
        registered(service, D(2026, 3, 13), T(10, 0))
        tick_days(service, D(2026, 3, 13), 1)
        tick_days(service, sat, 2)
        assert list(HandoffRun.objects.values_list("date", flat=True)) == [D(2026, 3, 13)]

    def test_a_manual_send_before_the_close_leaves_the_rest_for_the_next(self, service):
        tue = D(2026, 3, 10)
        early = registered(service, tue, T(9, 0))
        run = services.handoff_send(
            service=service, date=tue, now=make_aware_local(service, tue, T(11, 0))
        )
        late = registered(service, tue, T(12, 0))
        assert run.request_count == 1 and run_of(early) == run
        included, later = services.handoff_lists(service=service, date=tue)
        assert included == [early] and later == [late]
        tick_days(service, tue, 2)
        assert run_of(late).date == D(2026, 3, 11)
        assert_each_once_in_first_run(service)

    def test_coordinator_view_lists_in_and_tomorrow(self, service):
        tue = D(2026, 3, 10)
        a = registered(service, tue, T(10, 0))
        b = registered(service, tue, T(17, 5))
        assert services.handoff_lists(service=service, date=tue) == ([a], [b])
        tick_days(service, tue, 1)
        assert services.handoff_lists(service=service, date=tue) == ([a], [b])
        assert services.handoff_lists(service=service, date=D(2026, 3, 11)) == ([b], [])


@pytest.mark.django_db(transaction=True)
def test_two_runs_racing_hand_over_each_request_once(service):
    """Two runs of the same service at once (the beat and a coordinator's button, or two workers
    on different days): PostgreSQL row locks make one wait for the other."""
    tue, wed = D(2026, 3, 10), D(2026, 3, 11)
    for hour in range(8, 17):
        registered(service, tue, T(hour, 0))
        registered(service, wed, T(hour, 30))
    barrier = threading.Barrier(4)
    errors = []

    def send(date):
        try:
            barrier.wait()
            services.handoff_send(
                service=service, date=date, now=make_aware_local(service, wed, T(17, 45))
            )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(d,)) for d in (tue, wed, tue, wed)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert HandoffItem.objects.count() == ServiceRequest.objects.count() == 18
    assert HandoffRun.objects.filter(sent_at__isnull=False).count() == 2
    assert sum(HandoffRun.objects.values_list("request_count", flat=True)) == 18
