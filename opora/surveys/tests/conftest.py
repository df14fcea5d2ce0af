import pytest


@pytest.fixture(autouse=True)
def _shipped_instruments(request):
    """The data migration loads the shipped instruments; a transactional test elsewhere flushes
    them, so put them back (as the root conftest does for the regions)."""
    if "db" not in request.fixturenames and not request.node.get_closest_marker("django_db"):
        yield
        return
    request.getfixturevalue("db")
    from opora.surveys.loader import load_shipped
    from opora.surveys.models import Instrument, InstrumentVersion

    load_shipped(Instrument, InstrumentVersion)
    yield


@pytest.fixture
def service(db):
    """A district office: anonymous requests, no eligibility check — the portal offers its
    questionnaires openly (kz-1411, which checks eligibility, does not: see test_services)."""
    from opora.demo.factories import make_district_service

    return make_district_service()
