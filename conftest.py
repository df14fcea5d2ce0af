import pytest

from opora.accounts.models import Role
from opora.demo.factories import make_service_1411, make_user


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


_DB_FIXTURES = {"db", "transactional_db", "live_server"}


@pytest.fixture(autouse=True)
def _reference_data_survives_flushes(request, django_db_blocker):
    """A transactional test ends with a flush that also empties the tables the migrations filled
    (regions); put them back before a test that uses the database, so that it sees the database
    as migrated."""
    uses_db = _DB_FIXTURES & set(request.fixturenames) or request.node.get_closest_marker(
        "django_db"
    )
    if uses_db:
        from opora.core.models import Region
        from opora.core.regions import load_regions

        with django_db_blocker.unblock():
            if not Region.objects.exists():
                load_regions(Region)
    yield
