import pytest

from opora.accounts.models import Role
from opora.core.testing import make_service_1411, make_user


@pytest.fixture
def service(db):
    return make_service_1411()


@pytest.fixture
def operator(service):
    return make_user(Role.OPERATOR, service=service, organisation=service.intake_organisation)


@pytest.fixture
def coordinator(service):
    return make_user(Role.COORDINATOR, service=service, organisation=service.intake_organisation)


@pytest.fixture
def head(service):
    return make_user(Role.HEAD, service=service, organisation=service.provider_organisation)


@pytest.fixture
def consultant(service):
    return make_user(Role.CONSULTANT, service=service, organisation=service.provider_organisation)
