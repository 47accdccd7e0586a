"""Every page and protocol URL, given hostile query strings, answers without a server error (issue 10 §1):
huge numbers, dates at the calendar's ends, NaN, bad encodings, over-long values — for a signed-in user
and an anonymous visitor. The API has its own fuzz over its OpenAPI document (tests/test_api_fuzz.py)."""

import re

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

HOSTILE = [
    "page=99999999999999999999&offset=9223372036854775808&limit=-5&id=-1&service_request_id=9223372036854775808",
    "from=9999-12-31&to=9999-12-31&start_date=9999-01-01T00:00:00Z&end_date=0001-01-01&format=pdf",
    "lat=NaN&lon=Infinity&long=1e308&q=%ff%fe&code=" + "x" * 5000,
]


def _routes(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        else:
            yield prefix + str(p.pattern)


def _url(route: str) -> str:
    url = "/" + route.lstrip("^").rstrip("$")
    url = re.sub(r"<int:\w+>", "99999999999999999999", url)  # past a bigint
    url = re.sub(r"<(?:\w+:)?\w+>", "X", url)
    url = re.sub(r"\(\?P<fmt>[^)]*\)", "json", url)
    url = re.sub(r"\(\?P<\w+>[^)]*\)", "X", url)
    return url.replace("\\.", ".")


def test_no_page_answers_a_server_error(wuhan):
    from cityops.accounts.demo import load_demo_users, load_departments, load_roles
    from cityops.accounts.models import User
    from cityops.cases.demo import load_categories

    load_roles()
    load_departments()
    load_categories()
    load_demo_users(password="pw-cityops-test")
    urls = sorted({_url(r) for r in _routes(get_resolver().url_patterns)
                   if not r.startswith(("admin/", "api/v1/", "media/"))})
    assert len(urls) > 30
    failures = []
    for username in ("admin", None):
        client = Client(raise_request_exception=False)
        if username:
            client.force_login(User.objects.get(username=username))
        for url in urls:
            for query in HOSTILE:
                response = client.get(f"{url}?{query}")
                if response.status_code >= 500:
                    failures.append((username, url, query[:60], response.status_code))
    assert not failures, failures
