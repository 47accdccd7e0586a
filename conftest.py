"""Shared fixtures: one named user per role (STYLE.md), API clients with bearer tokens."""

import os

import pytest
from django.contrib.auth.models import Group

from cityops.core import roles

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # With CI=true nothing that needs a real service may skip: a skip becomes a failure.
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"CI=true forbids skipping: {report.longrepr}"


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` test what only PostgreSQL has (prepared statements, plans, server-side
    connections): the SQLite run leaves them out (deselected, not skipped); the PostgreSQL run has them."""
    from django.conf import settings

    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    kept, left_out = [], []
    for item in items:
        (left_out if item.get_closest_marker("postgres") else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@pytest.fixture(autouse=True)
def _site_language():
    """Each test starts in the site's language: a request through LocaleMiddleware (e.g. Accept-Language: en)
    leaves its language active in the thread, and code called directly afterwards would speak it."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def make_user(db):
    from cityops.accounts.models import OrgUnit, User

    def make(username, *role_codes, org_units=(), region_codes=(), password="pw-cityops-test", **extra):
        user = User.objects.create_user(username=username, password=password, **extra)
        for code in role_codes:
            group, _ = Group.objects.get_or_create(name=code)
            user.groups.add(group)
        for unit_code in org_units:
            unit, _ = OrgUnit.objects.get_or_create(
                code=unit_code, defaults={"name": unit_code, "kind": OrgUnit.Kind.DEPARTMENT}
            )
            user.org_units.add(unit)
        if region_codes:
            user.region_codes = list(region_codes)
            user.save(update_fields=["region_codes"])
        return User.objects.get(pk=user.pk)

    return make


@pytest.fixture
def operator(make_user):
    return make_user("t_operator", roles.OPERATOR)


@pytest.fixture
def shift_lead(make_user):
    return make_user("t_shiftlead", roles.SHIFT_LEAD)


@pytest.fixture
def dispatcher(make_user):
    return make_user("t_dispatcher", roles.DISPATCHER)


@pytest.fixture
def handler_hw(make_user):
    return make_user("t_dept_hw", roles.DEPT_HANDLER, org_units=["HW"])


@pytest.fixture
def handler_cg(make_user):
    return make_user("t_dept_cg", roles.DEPT_HANDLER, org_units=["CG"])


@pytest.fixture
def grid_worker(make_user):
    return make_user("t_gridworker", roles.GRID_WORKER, region_codes=["420106"])


@pytest.fixture
def resident(make_user):
    return make_user("t_resident", roles.RESIDENT)


@pytest.fixture
def leader(make_user):
    return make_user("t_leader", roles.LEADER)


@pytest.fixture
def api_client_for(db):
    """api_client_for(user) -> a django.test.Client that sends the user's bearer token."""
    from django.test import Client

    from cityops.accounts.services import api_token_create

    def make(user):
        _token, secret = api_token_create(user=user, name="test")
        return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    return make


# --- Browser tests: Debian's chromium driven by playwright (never `playwright install`) --------------------
CHROMIUM = os.environ.get("CITYOPS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"chromium not found at {CHROMIUM} (make test installs Debian's chromium)")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def login(live_server):
    """login(page, user, password="pw-cityops-test"): log a browser page in through the real login form.

    After the test, the live feed's streams it opened end before its database is emptied: the live server's threads
    outlive the test (the server is the session's), and a stream whose page was closed would go on reading the
    timeline until its next heartbeat fails to write — past the end of the session, where the database is
    blocked ("Database access not allowed", printed after the summary)."""

    def do_login(page, user, password="pw-cityops-test"):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.click("#login-submit")
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield do_login
    from cityops.dashboard import live

    left = live.hub.stop(timeout=5)
    assert not left, f"live streams still running after the test: {left}"


def _cityops_threads() -> list[str]:
    """The threads other than this one that are running cityops code now, each with its innermost cityops frame."""
    import sys
    import threading
    import traceback

    import cityops

    # Our package's own files (by path: a checkout under a folder named cityops must not make every library's
    # frame look like ours), its tests left out.
    package = os.path.join(os.path.dirname(os.path.realpath(cityops.__file__)), "")
    tests = f"{os.sep}tests{os.sep}"
    frames = sys._current_frames()
    found = []
    for thread in threading.enumerate():
        frame = frames.get(thread.ident)
        if thread is threading.current_thread() or frame is None:
            continue
        paths = (os.path.realpath(f.filename) for f in traceback.extract_stack(frame))
        ours = [p for p in paths if p.startswith(package) and tests not in p[len(package) - 1:]]
        if ours:
            found.append(f"{thread.name} (daemon={thread.daemon}) in {ours[-1]}")
    return found


@pytest.fixture(scope="session", autouse=True)
def _no_cityops_thread_outlives_the_session():
    """Every thread that runs cityops code has stopped when the session ends (the live feed's streams and its Redis
    listener are stopped and waited for first): a thread left running would touch the database after pytest-django
    blocked it, and the web server and the worker would meet the same thread at their shutdown."""
    yield
    import threading
    import time

    from cityops.dashboard import live

    # Every live server's stream was ended after its test (login): a thread still serving one is a leak. (Streams
    # read through django.test.Client run in this thread and end with their response.)
    serving = [s.thread for s in live.hub.close_all() if s.thread not in (None, threading.current_thread())]
    live.hub.stop(timeout=5, listener=True)
    deadline = time.monotonic() + 5  # woken by close_all, each returns at once; a leak is one that does not
    for thread in serving:
        thread.join(max(deadline - time.monotonic(), 0))
    streaming = [t.name for t in serving if t.is_alive()]
    deadline = time.monotonic() + 5  # a request the live server is still finishing may take a moment
    while (left := _cityops_threads()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not streaming, f"live streams still served at the end of the session: {streaming}"
    assert not left, f"threads running cityops code at the end of the session: {left}"


# --- The Wuhan demo city, loaded once per test session --------------------------------------------------
@pytest.fixture(scope="session", autouse=True)
def _demo_shapes_once():
    """The demo city's shapes are computed once per test process: build_plan is deterministic (a fixed seed and the
    shipped boundary and name files) and costs ~18 s of CPU, and a transactional test (live server, browser) empties
    the tables, so every later test that needs the city loads it again. The rows are still written each time."""
    import functools

    from cityops.geo import demo

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(demo, "build_plan", functools.cache(demo.build_plan))
        yield


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
