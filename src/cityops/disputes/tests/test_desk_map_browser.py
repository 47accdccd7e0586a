"""The centre's desk at a phone's width (390 px) in Chromium: the place of a walk-in is picked on the case intake's
map (cases/_map_picker.html, cases/map.js). A click fills lon/lat and shows the place's regions by name; a point
outside the city or outside the desk's own district is refused on the page with a message; the dispute registered
from the form is at the clicked point, in its region."""

import pytest

from cityops.cases.tests.conftest import POINT_JIANGAN, POINT_WUCHANG_A
from cityops.disputes.tests import test_intake as intake

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
geography, reference, world = intake.geography, intake.reference, intake.world


def _pick(page, lon: float, lat: float) -> None:
    """What the address search does: the pin moved to a point by the page's own picker."""
    page.evaluate("([lat, lon]) => window.cityopsCaseMap.set(lat, lon, 15)", [lat, lon])


def test_a_click_on_the_desk_map_gives_the_dispute_its_place(world, browser, login, live_server):
    from cityops.disputes.models import Dispute

    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        login(page, world["staff"])  # a desk of 武昌区's centre
        page.goto(f"{live_server.url}/disputes/desk/")
        page.wait_for_selector("#intake-map[data-basemap=loaded]")

        # Outside the city: refused, nothing kept.
        _pick(page, 113.5, 30.5)
        page.wait_for_selector("#intake-map[data-located=refused]", state="attached")
        assert "不在本市" in page.inner_text("#pin-region")
        assert page.input_value("#id_lon") == "" and page.input_value("#id_lat") == ""

        # In 江岸区, another centre's district: refused, and the message names the place and the desk's district.
        _pick(page, *POINT_JIANGAN)
        page.wait_for_selector("#intake-map[data-located=refused]", state="attached")
        refused = page.inner_text("#pin-region")
        assert "不在您负责的区域" in refused and "江岸区" in refused and "武昌区" in refused
        assert page.input_value("#id_lon") == ""

        # A click in 武昌区's 东社区: the point is kept and its regions shown by name.
        page.evaluate("([lat, lon]) => window.__caseMap.setView([lat, lon], 15, {animate: false})",
                      [POINT_WUCHANG_A[1], POINT_WUCHANG_A[0]])
        page.locator("#intake-map").scroll_into_view_if_needed()
        box = page.locator("#intake-map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_selector("#intake-map[data-located=ok]", state="attached")
        shown = page.inner_text("#pin-region")
        assert "武昌区" in shown and "东社区01号网格" in shown and "420106" not in shown  # names, not codes
        lon, lat = float(page.input_value("#id_lon")), float(page.input_value("#id_lat"))
        assert abs(lon - POINT_WUCHANG_A[0]) < 0.002 and abs(lat - POINT_WUCHANG_A[1]) < 0.002
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        page.fill("#id_title", "楼上漏水")
        page.select_option("#id_kind", "neighbour")
        page.fill("#id_description", "楼上卫生间漏水至楼下")
        page.fill("#id_a_name", "张三")
        page.fill("#id_r_name", "李四")
        page.click("#intake-form button[type=submit]")
        page.wait_for_url("**/disputes/*/#actions")

        d = Dispute.objects.get()
        assert abs(d.lon - lon) < 1e-6 and abs(d.lat - lat) < 1e-6
        assert d.grid_code == "42010600100101" and d.district_code == "420106"
    finally:
        context.close()
