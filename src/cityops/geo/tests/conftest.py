"""Geo fixtures (the `wuhan` demo-city fixture is in the root conftest, shared by every app)."""

import pytest

from cityops.geo import index


@pytest.fixture(autouse=True)
def _fresh_index_check():
    # A rolled-back test may have changed the version token: compare it before the next lookup.
    index.recheck()
    yield
    index.recheck()


@pytest.fixture
def geo_client(make_user, client):
    client.force_login(make_user("t_geo_viewer"))
    return client
