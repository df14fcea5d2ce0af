"""A bounded property-based crawl (Hypothesis) of every URL pattern the resolver knows, with hostile
path and query values and hostile form posts, as an anonymous visitor, a signed-in operator and a
consultant: zero 5xx.

The routes come from the URL resolver, not from a hand-kept list, so a new page is crawled the day
it is added. Django's admin is left out: it is Django's own, behind `is_staff`, and a non-staff user
only ever gets its sign-in redirect. The crawl is bounded by examples per route
(OPORA_CRAWL_EXAMPLES, 8 by default, half that for posts; about 40 s on a busy two-core machine)
and derandomised, so a run in CI is reproducible; Hypothesis' per-example deadline is off, because
a timing limit would fail on a loaded machine rather than on a bug.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opora.scheduling.tests.factories import make_request

MAX_EXAMPLES = int(os.environ.get("OPORA_CRAWL_EXAMPLES", "8"))

# Values that broke something once, or break such things in general.
HOSTILE = [
    "\x00",
    "a\x00b",
    "\x01\x1f\x7f",
    "%00",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "9999-12",
    "0000-00",
    "-1",
    "0",
    "99999999999999999999",
    "1e309",
    "NaN",
    "' OR 1=1 --",
    '=HYPERLINK("http://evil.example","x")',
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "x" * 300,
    "кириллица",
    "\u202e\ufeff",
    "2026-01-01T25:61:00+99:00",
    "",
]
# The names the views read from the query string (dates, filters, search, paging, choices).
PARAM_NAMES = [
    "date",
    "from",
    "to",
    "date_from",
    "date_to",
    "month",
    "next_date",
    "q",
    "page",
    "status",
    "channel",
    "consultant",
    "specialty",
    "service",
    "format",
    "next",
    "time",
    "crisis",
    "lang",
    "request_id",
    "code",
]

# …and the names the forms post (people's details, dates and times, choices, free text).
FIELD_NAMES = [
    *PARAM_NAMES,
    "full_name",
    "phone",
    "email",
    "iin",
    "reason",
    "text",
    "body",
    "message",
    "slot",
    "desired_date",
    "desired_time",
    "requested_on",
    "username",
    "password",
    "region",
    "consent",
    "seq",
    "result",
]

text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="/"), min_size=0, max_size=40
)
hostile = st.one_of(st.sampled_from(HOSTILE), text)
query = st.dictionaries(st.sampled_from(PARAM_NAMES), hostile, max_size=3)
form = st.dictionaries(st.sampled_from(FIELD_NAMES), hostile, max_size=5)

CONVERTER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")


def _routes(resolver: URLResolver, prefix: str = "") -> Iterator[str]:
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith("admin/"):
                continue
            yield from _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route


ROUTES = sorted(set(_routes(get_resolver())))


def _segment(kind: str | None) -> st.SearchStrategy[str]:
    if kind == "int":
        return st.one_of(st.integers(0, 30), st.integers(2**63 - 2, 10**22), st.just(0)).map(str)
    if kind == "slug":
        return st.one_of(
            st.sampled_from(["kz-1411", "district", "telegram", "bot"]),
            st.from_regex(r"[-a-zA-Z0-9_]{1,30}", fullmatch=True),
        )
    return hostile.filter(bool).map(lambda v: quote(v, safe=""))


def _path(route: str, draw: Callable[[st.SearchStrategy[str]], str]) -> str:
    return "/" + CONVERTER.sub(lambda m: draw(_segment(m.group("kind"))), route)


def test_the_crawl_covers_the_pages_that_once_answered_500():
    assert {"s/r/<str:token>/", "c/<str:token>/", "operator/requests/<int:pk>/book/"} <= set(ROUTES)
    assert len(ROUTES) > 80


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "operator", "consultant"])
@pytest.mark.parametrize("route", ROUTES)
def test_no_5xx_for_hostile_path_and_query(route, who, request, service):
    make_request(service)  # an id that exists, so some pages go past their 404
    client = Client()
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(data=st.data(), params=query)
    def crawl(data: st.DataObject, params: dict[str, str]) -> None:
        path = _path(route, data.draw)
        url = path + ("?" + urlencode(params) if params else "")
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)

    crawl()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "operator", "consultant"])
@pytest.mark.parametrize("route", ROUTES)
def test_no_5xx_for_hostile_form_posts(route, who, request, service):
    """The same routes posted hostile form fields (half the examples: a form is refused whole)."""
    make_request(service)
    client = Client()  # the test client does not check CSRF tokens: the views see every post
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))

    @settings(
        max_examples=max(MAX_EXAMPLES // 2, 2),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(data=st.data(), fields=form)
    def crawl(data: st.DataObject, fields: dict[str, str]) -> None:
        path = _path(route, data.draw)
        response = client.post(path, fields)
        assert response.status_code < 500, (path, sorted(fields), response.status_code)

    crawl()
