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
