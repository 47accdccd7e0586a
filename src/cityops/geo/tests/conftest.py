"""Geo fixtures: the Wuhan demo geography loaded once per session into the test database."""

import pytest

from cityops.geo import index


@pytest.fixture(scope="session")
def _wuhan_session(django_db_setup, django_db_blocker):
    from cityops.geo.demo import load_demo_geography

    with django_db_blocker.unblock():
        return load_demo_geography()


@pytest.fixture
def wuhan(_wuhan_session, db):
    """The demo city. Reloads it (inside this test's transaction) if a transactional test of another app
    flushed the database after the session load."""
    from cityops.geo.demo import load_demo_geography
    from cityops.geo.models import Region

    if not Region.objects.filter(code="420100").exists():
        load_demo_geography()
    return _wuhan_session


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
