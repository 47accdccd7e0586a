"""Hotline fixtures: the Wuhan demo geography and the category taxonomy loaded once per session, and one
classifier trained once per session into a temporary data directory (never the developer's var/)."""

import pytest
from django.test import override_settings

from cityops.geo import index


@pytest.fixture(scope="session", autouse=True)
def _hotline_data_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("hotline-data")
    with override_settings(DATA_DIR=path):
        yield path


@pytest.fixture(scope="session")
def _wuhan_session(django_db_setup, django_db_blocker):
    from cityops.accounts.demo import load_departments, load_roles
    from cityops.cases.demo import load_categories
    from cityops.geo.demo import load_demo_geography

    with django_db_blocker.unblock():
        load_roles()
        load_departments()
        load_categories()
        return load_demo_geography()


@pytest.fixture
def wuhan(_wuhan_session, db):
    """The demo city, categories and departments; reloaded inside this test if a transactional test of
    another app flushed the database after the session load."""
    from cityops.cases.models import Category
    from cityops.geo.models import Region

    if not Region.objects.filter(code="420100").exists() or not Category.objects.exists():
        from cityops.accounts.demo import load_departments, load_roles
        from cityops.cases.demo import load_categories
        from cityops.geo.demo import load_demo_geography

        load_roles()
        load_departments()
        load_categories()
        load_demo_geography()
    return _wuhan_session


@pytest.fixture(scope="session")
def model(_hotline_data_dir):
    """The classifier trained on the shipped corpus alone (train split)."""
    from cityops.hotline import classifier

    trained = classifier.train([])
    classifier.save(trained)
    classifier.forget()
    return trained


@pytest.fixture(autouse=True)
def _fresh_caches():
    from cityops.geo import address
    from cityops.hotline import selectors

    index.recheck()
    address._cache.clear()
    selectors.categories.forget()
    yield
    index.recheck()
    address._cache.clear()
