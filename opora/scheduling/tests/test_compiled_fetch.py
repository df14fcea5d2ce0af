"""The booking path's compiled fetch returns what the plain QuerySet returns (compiled_contract.py),
on the database the suite runs on and on a SQLite file in a fresh process."""

import pytest

from opora.scheduling.tests.compiled_contract import run_contract
from opora.scheduling.tests.sqlite_subprocess import run_on_sqlite


@pytest.mark.django_db(transaction=True)
def test_the_compiled_fetch_returns_what_the_queryset_returns():
    result = run_contract()
    assert result["mismatches"] == []
    assert result["cases"] == 11


def test_the_compiled_fetch_returns_what_the_queryset_returns_on_sqlite(tmp_path):
    result, _stderr = run_on_sqlite("opora.scheduling.tests.compiled_contract", tmp_path)
    assert result["vendor"] == "sqlite"
    assert result["mismatches"] == []
    assert result["cases"] == 11
