# ruff: noqa: F811  (pytest fixtures imported from test_campaigns are parameters here)
"""The visit page's service worker script (disputes/visit_offline.py): served from the visit pages' own path, so that
its scope is those pages only; a plain script file (the CSP's script-src 'self'), never kept by the HTTP cache; the
page names it."""

import pytest
from django.test import Client

from cityops.disputes.tests.test_campaigns import geography, hy_worker, reference  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def test_the_worker_script_is_served_from_the_visit_path(client):
    answer = client.get("/disputes/campaigns/visit/sw.js")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/javascript")
    assert answer["Cache-Control"] == "no-cache" and b"cityops-visit-" in answer.content
    assert "script-src 'self'" in answer["Content-Security-Policy"]
    assert client.post("/disputes/campaigns/visit/sw.js").status_code == 405


def test_the_visit_page_names_its_worker_and_scope(hy_worker):
    client = Client()
    client.force_login(hy_worker)
    html = client.get("/disputes/campaigns/visit/").content.decode()
    assert 'data-sw="/disputes/campaigns/visit/sw.js"' in html
    assert 'data-sw-scope="/disputes/campaigns/visit/"' in html
