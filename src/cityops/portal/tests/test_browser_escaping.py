"""Data on the portal's maps is text, never markup (issue 10 §2): a category name (admin data) and a case
description (anyone's report) with HTML in them are shown literally in the public map's popup and in the
"is it one of these?" list, and nothing in them runs."""

import pytest

from cityops.portal.tests.test_browser import pin_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = """<img src=x onerror="window.__xss=1;document.title='xss'">"""


def watch_csp(page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None)
    return seen


def assert_nothing_ran(page, violations):
    assert page.evaluate("window.__xss") is None
    assert page.title() != "xss"
    assert page.query_selector("img[src='x']") is None
    assert violations == []


@pytest.fixture
def hostile_case(city):
    from cityops.cases.models import Category
    from cityops.cases.services import case_create

    Category.objects.filter(code="C0101").update(name_zh="井盖" + HOSTILE)
    return case_create(actor=None, category="C0101", description="井盖不见了" + HOSTILE, source="portal",
                       lon="114.3362", lat="30.5373").case


def test_public_map_popup_shows_a_category_name_as_text(page, live_server, hostile_case):
    violations = watch_csp(page)
    page.goto(f"{live_server.url}/portal/map/")
    page.wait_for_selector("#case-map[data-loaded='1']")
    # One case: the map is fitted to it, so it ends up at the centre of the map once the zoom animation ends.
    box = page.locator("#case-map").bounding_box()
    for _ in range(40):
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        if page.query_selector(".leaflet-popup-content"):
            break
        page.wait_for_timeout(250)
    popup = page.wait_for_selector(".leaflet-popup-content")
    assert "井盖" + HOSTILE in popup.inner_text()
    assert popup.query_selector("img") is None
    assert_nothing_ran(page, violations)


def test_report_form_lists_a_nearby_description_and_category_as_text(page, live_server, hostile_case):
    violations = watch_csp(page)
    page.goto(f"{live_server.url}/portal/report/")
    assert HOSTILE in page.inner_text("#category-list")
    page.locator("input[name=category][value=C0101]").check(force=True)
    pin_at(page, 30.5373, 114.3362)
    page.wait_for_selector("#nearby:not([hidden])")
    assert hostile_case.code in page.inner_text("#nearby-list")
    assert HOSTILE in page.inner_text("#nearby-list")
    assert page.query_selector("#nearby-list img") is None
    assert_nothing_ran(page, violations)
