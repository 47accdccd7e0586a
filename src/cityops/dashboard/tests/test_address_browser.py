"""The dashboard's view in the address, in Chromium: a leader who drills down to a district, colours the areas by
score and switches layers, then reloads (or sends the link), sees the same view; Back goes up the drill-down, to
the city; on a desk and on a phone's 390 px. A region outside the user's area, named in the address, is not shown:
the page says why with the server's message. The scored small city of test_scores (武昌区's one street scores)."""

import pytest

from cityops.core import roles
from cityops.dashboard.tests import test_map_api as small_city
from cityops.dashboard.tests import test_scores as scored_city
from cityops.dashboard.tests.conftest import PHONE, SHOTS, click_at, fits
from cityops.dashboard.tests.conftest import address_query as _query

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

geography, reference, cases, timeline = (scored_city.geography, scored_city.reference, small_city.cases,
                                         scored_city.timeline)
district_dispatcher, district_units = scored_city.district_dispatcher, scored_city.district_units
_no_cache = scored_city._no_cache


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_a_drilled_down_scored_view_survives_a_reload_and_back_goes_up(cases, timeline, make_user, dashboard, width,
                                                                      height):
    page = dashboard(make_user(f"t_address_{width}", roles.LEADER), width=width, height=height)
    # Down to 武昌区 by a click on the map, as a user does; then scores, the density on, the cases off.
    page.locator("#dmap-map").scroll_into_view_if_needed()
    click_at(page, 114.33, 30.575)
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
    fits(page, width)

    page.go_back()  # up the drill-down: the city, as it was shown there
    page.wait_for_selector("#dmap-figures[data-region=''][data-loaded='1']")
    page.wait_for_selector("#dmap-map[data-layer_areas='2']")
    assert "武昌区" not in page.inner_text("#dmap-crumbs") and "region" not in _query(page)
    assert page.locator(".dfig", has_text="在办").first.inner_text().startswith("6")
    page.go_forward()  # and down again, to the view left there
    page.wait_for_selector("#dmap-figures[data-region='420106']")
    page.wait_for_selector("#dmap-map[data-areas-scored='1'][data-area-mode='score']")
    fits(page, width)
    page.screenshot(path=str(SHOTS / f"address-{width}.png"), full_page=True)


def test_a_region_outside_the_users_area_in_the_address_is_not_shown(cases, district_dispatcher, signed_in,
                                                                    live_server):
    page = signed_in(district_dispatcher, **PHONE)  # 武昌区's staff; 江岸区 (420102) is not theirs
    page.goto(f"{live_server.url}/dashboard/?region=420102&layers=cases,areas")
    page.wait_for_selector("#dmap[data-error='region_outside_scope']")
    assert page.inner_text("#dmap-figures") == "该区域不在您的管辖范围内"
    assert page.get_attribute("#dmap-map", "data-layer_areas") is None
    assert page.get_attribute("#dmap-map", "data-layer_cases") is None  # not one of its cases
    fits(page, 390)
    # The breadcrumb leads back to their own area.
    page.click("#dmap-crumbs button:has-text('我的辖区')")
    page.wait_for_selector("#dmap-figures[data-loaded='1']")
    assert page.get_attribute("#dmap", "data-error") is None and "region" not in _query(page)
    assert "武昌区" in page.inner_text("#dmap-crumbs")
