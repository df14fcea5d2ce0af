"""The 1411 reports' SLA on the dashboards: every form whose due day (5th/10th/15th) falls in the
period, met when its latest version was sent by that day; the list behind the misses for heads,
the counts only for the authority."""

import datetime as dt

import pytest
from django.utils import timezone

from opora.accounts.models import Role
from opora.demo.factories import make_user
from opora.journals import dashboards as d
from opora.reports.models import Report
from opora.web.views.dashboards import sla_reports

pytestmark = pytest.mark.django_db

MARCH = dt.date(2026, 3, 1)


def _report(service, kind: str, *, state: str, sent: dt.date | None, signer) -> Report:
    at = timezone.make_aware(dt.datetime.combine(sent or MARCH, dt.time(12)))
    return Report.objects.create(
        service=service,
        kind=kind,
        month=MARCH,
        organisation_from=service.intake_organisation,
        organisation_to=service.authority,
        state=state,
        signed_by=None if state == "draft" else signer,
        signed_at=None if state == "draft" else at,
        sent_at=at if sent else None,
    )


def _filter(service, persons: bool) -> d.DashboardFilter:
    return d.DashboardFilter(
        date_from=dt.date(2026, 4, 1),
        date_to=dt.date(2026, 4, 30),
        service_ids=(service.pk,),
        persons=persons,
    )


def test_reports_by_their_dates(service):
    head = make_user(Role.HEAD, service=service, organisation=service.intake_organisation)
    _report(service, "3.1", state="sent", sent=dt.date(2026, 4, 4), signer=head)  # by the 5th
    _report(service, "3.2", state="confirmed", sent=dt.date(2026, 4, 12), signer=head)  # late
    _report(service, "3.4", state="draft", sent=None, signer=head)  # never sent; 3.3 none
    sla = sla_reports(_filter(service, True), today=dt.date(2026, 5, 1))
    assert sla.measured and (sla.due, sla.met, sla.missed) == (4, 1, 3)
    labels = [m["label"] for m in sla.misses]
    assert len(labels) == 3 and all("03.2026" in label for label in labels)
    assert any(" 3.3 " in label for label in labels)
    # Before the 15th, 3.3 and 3.4 are not yet due; 3.2 was sent late, so it counts already.
    early = sla_reports(_filter(service, True), today=dt.date(2026, 4, 13))
    assert (early.due, early.met) == (2, 1)
    # The authority: the same counts, no list.
    authority = sla_reports(_filter(service, False), today=dt.date(2026, 5, 1))
    assert (authority.due, authority.met, authority.misses) == (4, 1, [])
