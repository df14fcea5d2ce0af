import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english_messages():
    """These tests assert the English source of the messages; the Russian and Kazakh renderings are
    checked by the web and browser tests."""
    with translation.override("en"):
        yield
