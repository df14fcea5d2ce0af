import pytest
from django.utils import translation

from opora.accounts.models import Role
from opora.demo.factories import make_user
from opora.reports.tests.factories import month_of_data


@pytest.fixture(autouse=True)
def english_messages():
    with translation.override("en"):
        yield


@pytest.fixture
def univ_head(service):
    return make_user(Role.HEAD, service=service, organisation=service.provider_organisation)


@pytest.fixture
def authority_user(service):
    return make_user(Role.AUTHORITY, organisation=service.authority)


@pytest.fixture
def other_consultant(service):
    return make_user(
        Role.CONSULTANT,
        service=service,
        organisation=service.provider_organisation,
        last_name="Другова",
    )


@pytest.fixture
def data(service, consultant, other_consultant):
    for org in (service.intake_organisation, service.provider_organisation, service.authority):
        org.email = f"reports-{org.kind}@example.org"
        org.save()
    return month_of_data(service, consultant, other_consultant)
