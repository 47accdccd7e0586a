"""Fixtures of the dashboard's tests.
- Early warning: two districts with a street each (by name), the case categories, and cases written as rows at
  chosen times (the detector reads nothing but their category, place and time).
- Browser tests (Chromium): `signed_in` (a logged-in page at a screen's size), `dashboard` (the map page opened on
  it and drawn), `fits` (nothing wider than the screen) and SHOTS, where screenshots go (git-ignored)."""

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

TZ = ZoneInfo("Asia/Shanghai")
WUCHANG, WUCHANG_STREET = "420106", "420106001"
JIANGAN, JIANGAN_STREET = "420102", "420102001"


@pytest.fixture
def places(db):
    from cityops.geo.models import Region

    square = {"type": "Polygon", "coordinates": [[[114.3, 30.5], [114.4, 30.5], [114.4, 30.6], [114.3, 30.5]]]}
    common = {"geometry": square, "min_lon": 114.3, "min_lat": 30.5, "max_lon": 114.4, "max_lat": 30.6,
              "centroid_lon": 114.35, "centroid_lat": 30.55, "area_km2": 10.0}
    for code, name, street, street_name in ((WUCHANG, "武昌区", WUCHANG_STREET, "中南路街道"),
                                            (JIANGAN, "江岸区", JIANGAN_STREET, "大智街道")):
        district = Region.objects.update_or_create(code=code, defaults={"name": name, "level": "district", **common})[0]
        Region.objects.update_or_create(code=street, defaults={"name": street_name, "level": "street",
                                                               "parent": district, **common})


@pytest.fixture
def categories(db):
    from cityops.cases.demo import load_categories
    from cityops.cases.models import Category

    load_categories()
    return {c.code: c for c in Category.objects.all()}


@pytest.fixture
def add_cases(categories):
    """add_cases(code, street, times) writes one case per time in the street (its district from the code), at
    114.35, 30.55 unless `at` (lon, lat) says where, in `community` if given."""
    from cityops.cases.models import Case

    counter = {"n": 0}

    def add(category_code: str, street: str, times: list[datetime], at: tuple[float, float] = (114.35, 30.55),
            community: str = "") -> list:
        rows = []
        for moment in times:
            counter["n"] += 1
            rows.append(Case(
                code=f"T{counter['n']:08d}", source="field", category=categories[category_code], lon=at[0],
                lat=at[1], region_code=(community or street + "001") + "01", district_code=street[:6],
                street_code=street, community_code=community, street_name="", description="测试", state="reported",
                created_at=moment,
            ))
        return Case.objects.bulk_create(rows)

    return add


@pytest.fixture
def quiet_history(add_cases, places):
    """Six weeks of noise complaints (噪声扰民) in each street, one every five hours, ending at NOW."""
    times = [NOW - timedelta(hours=6 * 168) + timedelta(hours=5 * i, minutes=7) for i in range(6 * 168 // 5)]
    add_cases("E0106", WUCHANG_STREET, times)
    add_cases("E0106", JIANGAN_STREET, times)


NOW = datetime(2026, 5, 12, 15, 0, tzinfo=TZ)  # a Tuesday afternoon, a workday


# --- browser tests ------------------------------------------------------------------------------------------------
SHOTS = Path(__file__).resolve().parents[4] / "screenshots" / "dashboard"
SHOTS.mkdir(parents=True, exist_ok=True)
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def signed_in(browser, login):
    """signed_in(user, width=1280, height=900, locale="zh-CN", timeout=15000, **context options) -> a page in a
    browser context of its own at that size (a phone's touch and mobile flags below 500 px wide), logged in as
    `user` through the login form. Every context it opened is closed after the test."""
    contexts = []

    def open_page(user, *, width=1280, height=900, locale="zh-CN", timeout=15000, **options):
        if width < 500:
            options = {"is_mobile": True, "has_touch": True, **options}
        context = browser.new_context(locale=locale, viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(timeout)
        login(page, user)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def dashboard(signed_in, live_server):
    """dashboard(user, path="/dashboard/", **signed_in's options) -> a page of `user` on the map page at `path`,
    its figures loaded and its cases drawn."""

    def open_dashboard(user, path="/dashboard/", **options):
        page = signed_in(user, **options)
        page.goto(f"{live_server.url}{path}")
        wait_drawn(page)
        return page

    return open_dashboard


def wait_drawn(page) -> None:
    """Until the map page has its figures and its cases layer (a reload, a link followed)."""
    page.wait_for_selector("#dmap-figures[data-loaded='1']")
    page.wait_for_selector("#dmap-map[data-layer_cases]")  # (wait_for_function would need eval: the CSP says no)


def address_query(page) -> dict:
    """The page's query string as a dict (blank values kept)."""
    from urllib.parse import parse_qs, urlparse

    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query, keep_blank_values=True).items()}


def click_at(page, lon, lat) -> None:
    """Click the map where (lon, lat) is drawn, as a user does."""
    x, y = page.evaluate("(([lon, lat]) => { const p = cityopsDashboard.map.latLngToContainerPoint([lat, lon]);"
                         " return [p.x, p.y]; })", [lon, lat])
    page.locator("#dmap-map").click(position={"x": x, "y": y})


def fits(page, width, height=None) -> None:
    """Nothing on the page is wider (or, given a height, taller) than the screen."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if height is not None:
        assert page.evaluate("document.documentElement.scrollHeight") <= height
