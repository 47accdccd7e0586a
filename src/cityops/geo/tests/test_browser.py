"""Region names on the grid map are text, never markup (issue 10 §2: a name imported with `cityops geo import`
was put into the map's tooltips as HTML — stored XSS)."""

import json
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Would set both flags if the browser ever parsed the name as HTML and ran its handler.
HOSTILE = """<img src=x onerror="window.__xss=1;document.title='xss'">测试区"""
# East of Wuhan, so no demo district lies under the pointer: 0.2° square.
SQUARE = [[116.0, 30.0], [116.2, 30.0], [116.2, 30.2], [116.0, 30.2], [116.0, 30.0]]


def csp_violations(page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None)
    return seen


def square_centre(page) -> tuple[float, float]:
    return tuple(page.evaluate("""() => { const p = window.__geoMap.latLngToContainerPoint([30.1, 116.1]);
        const r = document.getElementById('geo-map').getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }"""))


def test_an_imported_region_name_is_shown_as_text_and_never_runs(page, live_server, login, operator, tmp_path):
    path = tmp_path / "district.geojson"
    feature = {"type": "Feature", "properties": {"code": "429901", "name": HOSTILE},
               "geometry": {"type": "Polygon", "coordinates": [SQUARE]}}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    call_command("geo", "import", str(path), "--level", "district")  # the real import path

    violations = csp_violations(page)
    login(page, operator)
    page.goto(f"{live_server.url}/geo/")
    expect(page.locator("#geo-info")).to_have_text(re.compile(r"^\d+ "), timeout=15000)  # "N regions": drawn
    # The map fits the districts with an animated zoom: aim at the square's centre again until it is there.
    tooltip = None
    for _ in range(60):
        x, y = square_centre(page)
        page.mouse.move(x, y)
        page.mouse.move(x + 2, y + 2)  # sticky tooltips follow mousemove
        tooltip = page.query_selector(".leaflet-tooltip:has-text('测试区')")
        if tooltip:
            break
        page.wait_for_timeout(250)
    assert tooltip is not None
    assert HOSTILE in tooltip.inner_text()  # shown literally, angle brackets and all
    assert tooltip.query_selector("img") is None

    for _ in range(60):  # drill down: the name becomes a breadcrumb (a click during the animation may miss)
        x, y = square_centre(page)
        page.mouse.click(x + 2, y + 2)
        if "测试区" in page.inner_text("#geo-crumbs"):
            break
        page.wait_for_timeout(250)
    assert HOSTILE in page.inner_text("#geo-crumbs")
    assert page.query_selector("#geo-crumbs img") is None

    assert page.evaluate("window.__xss") is None
    assert page.title() != "xss"
    assert page.query_selector("img[src='x']") is None
    assert violations == []
