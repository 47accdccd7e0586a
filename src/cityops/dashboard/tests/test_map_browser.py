"""The dashboard's map page in Chromium (Debian's, through playwright): the layers switch and draw, a click on a
district drills map and figures down to it and the breadcrumb goes back, the wall view at 1920×1080 and
3840×2160 and the phone view at 390 px fit their screens. Screenshots go to screenshots/dashboard/ (git-ignored)."""

import pytest

from cityops.core import roles
from cityops.dashboard import aggregation
from cityops.dashboard.tests import test_map_api as small_city
from cityops.dashboard.tests.conftest import PHONE, SHOTS, click_at, fits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

geography, reference, cases = small_city.geography, small_city.reference, small_city.cases
district_dispatcher, district_units = small_city.district_dispatcher, small_city.district_units
_no_cache = small_city._no_cache  # autouse: every request counts afresh


def test_layers_switch_and_drill_down(cases, make_user, dashboard, monkeypatch):
    monkeypatch.setattr(aggregation, "POINTS_MAX", 3)  # six open cases: counted per bin, as a million would be
    page = dashboard(make_user("t_browser_leader", roles.LEADER))
    the_map = page.locator("#dmap-map")
    assert the_map.get_attribute("data-cases-kind") == "bins" and the_map.get_attribute("data-layer_cases") == "6"
    assert "视野内 案件 6" in page.inner_text("#dmap-note")
    labels = page.inner_text("#dmap-layers")
    for name in ("案件", "案件密度", "区域负荷", "异常预警", "物联设备", "矛盾纠纷（按风险）"):
        assert name in labels
    assert page.locator("input[value=decisions]").count() == 1  # the stability app's own layer (its label is its own)
    # Switch the density and the devices on, the cases off.
    page.check("input[value=heat]")
    page.wait_for_selector("#dmap-map[data-layer_heat='6']")
    page.check("input[value=devices]")
    page.wait_for_selector("#dmap-map[data-layer_devices='0']")
    page.uncheck("input[value=cases]")
    assert the_map.get_attribute("data-layer_cases") is None
    page.uncheck("input[value=heat]")
    # The figures of the city: six open, one overdue.
    figures = page.inner_text("#dmap-figures")
    assert "今日受理" in figures and "受理渠道" in figures and "属地解决率" in figures
    assert page.locator(".dfig", has_text="超期在办").inner_text().startswith("1")
    page.screenshot(path=str(SHOTS / "desk-city.png"))

    # Click 武昌区 on the map (no case circle there): map and figures drill down to it.
    click_at(page, 114.33, 30.575)
    page.wait_for_selector("#dmap-figures[data-region='420106']")
    assert "武昌区" in page.inner_text("#dmap-crumbs")
    page.wait_for_selector("#dmap-map[data-layer_areas='1']")  # its one street
    assert page.locator(".dfig", has_text="在办").first.inner_text().startswith("5")
    page.check("input[value=cases]")
    page.wait_for_selector("#dmap-map[data-layer_cases='5']")
    page.screenshot(path=str(SHOTS / "desk-district.png"))
    # Back to the city by the breadcrumb.
    page.click("#dmap-crumbs button:has-text('全市')")
    page.wait_for_selector("#dmap-figures[data-region='']")
    page.wait_for_selector("#dmap-map[data-layer_areas='2']")


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160)])
def test_the_wall_fills_the_screen_without_chrome(cases, make_user, dashboard, width, height):
    page = dashboard(make_user(f"t_wall_{width}", roles.LEADER), "/dashboard/?wall=1", width=width, height=height,
                     timeout=20000)
    assert not page.locator("header.topbar").is_visible()
    fits(page, width, height)
    box = page.locator("#dmap-map").bounding_box()
    assert box["width"] > width * 0.55 and box["height"] > height * 0.7
    big = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.dfig-value')).fontSize)")
    assert big >= width * 0.015  # read from across the room: ~29 px at 1920, ~58 px at 3840
    page.screenshot(path=str(SHOTS / f"wall-{width}x{height}.png"))


def test_a_leaders_phone_shows_the_figures_first(cases, district_dispatcher, dashboard):
    page = dashboard(district_dispatcher, **PHONE)
    fits(page, 390)
    figures, the_map = page.locator("#dmap-figures").bounding_box(), page.locator("#dmap-map").bounding_box()
    assert figures["y"] < the_map["y"] and the_map["width"] <= 390
    assert "武昌区" in page.inner_text("#dmap-crumbs")  # a district's staff start at their district
    page.screenshot(path=str(SHOTS / "phone-390.png"), full_page=True)
