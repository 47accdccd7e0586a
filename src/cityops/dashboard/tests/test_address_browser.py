"""The dashboard's view in the address, in Chromium: a leader who drills down to a district, colours the areas by
score and switches layers, then reloads (or sends the link), sees the same view; Back goes up the drill-down, to
the city; on a desk and on a phone's 390 px. A region outside the user's area, named in the address, is not shown:
the page says why with the server's message. The scored small city of test_scores (武昌区's one street scores)."""

from urllib.parse import parse_qs, urlparse

import pytest

from cityops.core import roles
from cityops.dashboard.tests import test_map_browser as page_tests
from cityops.dashboard.tests import test_scores as scored_city

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

geography, reference, cases, timeline = (scored_city.geography, scored_city.reference, page_tests.cases,
                                         scored_city.timeline)
district_dispatcher, district_units = scored_city.district_dispatcher, scored_city.district_units
_no_cache = scored_city._no_cache
_open, _fits = page_tests._open, page_tests._fits


def _query(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query, keep_blank_values=True).items()}


def _click_at(page, lon, lat):
    x, y = page.evaluate("(([lon, lat]) => { const p = cityopsDashboard.map.latLngToContainerPoint([lat, lon]);"
                         " return [p.x, p.y]; })", [lon, lat])
    page.locator("#dmap-map").click(position={"x": x, "y": y})


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_a_drilled_down_scored_view_survives_a_reload_and_back_goes_up(cases, timeline, make_user, browser, login,
                                                                      live_server, width, height):
    leader = make_user(f"t_address_{width}", roles.LEADER)
    phone = {"is_mobile": True, "has_touch": True} if width < 500 else {}
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height}, **phone)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        login(page, leader)
        _open(page, live_server)
        # Down to 武昌区 by a click on the map, as a user does; then scores, the density on, the cases off.
        page.locator("#dmap-map").scroll_into_view_if_needed()
        _click_at(page, 114.33, 30.575)
        page.wait_for_selector("#dmap-figures[data-region='420106']")
        page.check("input[name=areamode][value=score]")
        page.wait_for_selector("#dmap-map[data-areas-scored='1']")  # its one street
        page.check("input[value=heat]")
        page.wait_for_selector("#dmap-map[data-layer_heat]")
        page.uncheck("input[value=cases]")
        query = _query(page)
        assert query["region"] == "420106" and query["areas"] == "score"
        assert "heat" in query["layers"].split(",") and "cases" not in query["layers"].split(",")

        page.reload()
        page.wait_for_selector("#dmap-figures[data-region='420106'][data-loaded='1']")
        page.wait_for_selector("#dmap-map[data-areas-scored='1'][data-area-mode='score']")
        page.wait_for_selector("#dmap-map[data-layer_heat][data-layer_areas='1']")
        assert "武昌区" in page.inner_text("#dmap-crumbs")
        assert page.is_checked("input[name=areamode][value=score]") and "B 良" in page.inner_text("#dmap-area-legend")
        assert page.is_checked("input[value=heat]") and not page.is_checked("input[value=cases]")
        assert page.get_attribute("#dmap-map", "data-layer_cases") is None
        assert page.locator(".dfig", has_text="在办").first.inner_text().startswith("5")  # 武昌区's, not the city's 6
        _fits(page, width)

        page.go_back()  # up the drill-down: the city, as it was shown there
        page.wait_for_selector("#dmap-figures[data-region=''][data-loaded='1']")
        page.wait_for_selector("#dmap-map[data-layer_areas='2']")
        assert "武昌区" not in page.inner_text("#dmap-crumbs") and "region" not in _query(page)
        assert page.locator(".dfig", has_text="在办").first.inner_text().startswith("6")
        page.go_forward()  # and down again, to the view left there
        page.wait_for_selector("#dmap-figures[data-region='420106']")
        page.wait_for_selector("#dmap-map[data-areas-scored='1'][data-area-mode='score']")
        _fits(page, width)
        page.screenshot(path=str(page_tests.SHOTS / f"address-{width}.png"), full_page=True)
    finally:
        context.close()


def test_a_region_outside_the_users_area_in_the_address_is_not_shown(cases, district_dispatcher, browser, login,
                                                                    live_server):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        login(page, district_dispatcher)  # 武昌区's staff; 江岸区 (420102) is not theirs
        page.goto(f"{live_server.url}/dashboard/?region=420102&layers=cases,areas")
        page.wait_for_selector("#dmap[data-error='region_outside_scope']")
        assert page.inner_text("#dmap-figures") == "该区域不在您的管辖范围内"
        assert page.get_attribute("#dmap-map", "data-layer_areas") is None
        assert page.get_attribute("#dmap-map", "data-layer_cases") is None  # not one of its cases
        _fits(page, 390)
        # The breadcrumb leads back to their own area.
        page.click("#dmap-crumbs button:has-text('我的辖区')")
        page.wait_for_selector("#dmap-figures[data-loaded='1']")
        assert page.get_attribute("#dmap", "data-error") is None and "region" not in _query(page)
        assert "武昌区" in page.inner_text("#dmap-crumbs")
    finally:
        context.close()
