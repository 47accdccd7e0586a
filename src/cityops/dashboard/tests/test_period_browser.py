"""The dashboard's period picker in Chromium: a custom from/to drives the figures, the trend and the map's "reported
in the period" cases together; it stays in the address (a shared link or a reload shows the same period); a bad
period is refused with the server's message (kpis.parse_period) in the page's language and changes nothing; at a
phone's 390 px the picker fits. The small city of test_map_api: seven cases reported in the last hours."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cityops.core import roles
from cityops.dashboard.tests import test_map_api as small_city
from cityops.dashboard.tests.conftest import PHONE, SHOTS, fits
from cityops.dashboard.tests.conftest import address_query as _query

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

geography, reference, cases = small_city.geography, small_city.reference, small_city.cases
district_dispatcher, district_units = small_city.district_dispatcher, small_city.district_units
_no_cache = small_city._no_cache


def _intake(page) -> str:
    return page.locator(".dfig", has_text="期间受理").locator(".dfig-value").inner_text()


def _pick(page, start, end):
    """Choose a custom period through the form, as a user does."""
    page.select_option("#dmap-days", "custom")
    page.fill("#dmap-from", start)
    page.fill("#dmap-to", end)


def test_a_custom_period_drives_figures_trend_and_map_and_stays_in_the_address(cases, make_user, dashboard):
    today = timezone.localdate()
    long_ago = (today - timedelta(days=400), today - timedelta(days=380))
    page = dashboard(make_user("t_period_leader", roles.LEADER))
    assert page.locator("#dmap-custom").is_hidden()
    assert _intake(page) == "7"
    # The map shows the cases reported in the period: all seven (one closed) today.
    page.select_option("#dmap-status", "period")
    page.wait_for_selector("#dmap-map[data-layer_cases='7']")

    # A custom period of 21 days long ago: no intake, a 21-day trend, no case on the map; in the address.
    _pick(page, long_ago[0].isoformat(), long_ago[1].isoformat())
    page.wait_for_selector(f"#dmap-figures[data-period='{long_ago[0]}/{long_ago[1]}']")
    assert _intake(page) == "0"
    page.wait_for_selector("#dmap-map[data-layer_cases='0']")
    assert _query(page)["from"] == long_ago[0].isoformat() and _query(page)["to"] == long_ago[1].isoformat()

    # A reload (or the link sent to someone) shows the same period.
    page.reload()
    page.wait_for_selector(f"#dmap-figures[data-period='{long_ago[0]}/{long_ago[1]}']")
    assert page.input_value("#dmap-days") == "custom" and page.locator("#dmap-custom").is_visible()
    assert page.input_value("#dmap-from") == long_ago[0].isoformat() and _intake(page) == "0"

    # Back to a custom period that holds today: the seven again.
    _pick(page, (today - timedelta(days=2)).isoformat(), today.isoformat())
    page.wait_for_selector(f"#dmap-figures[data-period='{today - timedelta(days=2)}/{today}']")
    assert _intake(page) == "7"

    # A preset goes to the address too (days=30), and the dates leave it.
    page.select_option("#dmap-days", "30")
    page.wait_for_selector(f"#dmap-figures[data-period='{today - timedelta(days=29)}/{today}']")
    assert _query(page).get("days") == "30" and "from" not in _query(page)
    assert page.locator("#dmap-custom").is_hidden()


def test_a_bad_period_is_refused_with_the_servers_message_and_changes_nothing(cases, make_user, dashboard, signed_in,
                                                                           live_server):
    leader = make_user("t_period_bad", roles.LEADER)
    today = timezone.localdate()
    page = dashboard(leader)
    before = page.get_attribute("#dmap-figures", "data-period")
    _pick(page, today.isoformat(), (today - timedelta(days=3)).isoformat())  # to before from
    page.wait_for_selector("#dmap[data-period-error='invalid_range']")
    assert page.inner_text("#dmap-period-error") == "结束日期早于开始日期"
    assert page.get_attribute("#dmap-to", "aria-invalid") == "true"
    assert page.get_attribute("#dmap-figures", "data-period") == before and "from" not in _query(page)
    _pick(page, (today - timedelta(days=366)).isoformat(), today.isoformat())  # 367 days
    page.wait_for_selector("#dmap[data-period-error='period_too_long']")
    assert "366" in page.inner_text("#dmap-period-error")
    _pick(page, (today - timedelta(days=365)).isoformat(), today.isoformat())  # 366 days: the most
    page.wait_for_selector(f"#dmap-figures[data-period='{today - timedelta(days=365)}/{today}']")
    assert page.locator("#dmap-period-error").is_hidden() and _intake(page) == "7"
    page = signed_in(leader, locale="en-US")
    page.goto(f"{live_server.url}/dashboard/?from={today}&to={today - timedelta(days=1)}")
    page.wait_for_selector("#dmap[data-period-error='invalid_range']")
    assert page.get_attribute("html", "lang").startswith("en")
    assert page.inner_text("#dmap-period-error") == "'to' is before 'from'"  # the English page: the English message


def test_the_period_picker_fits_a_phone(cases, district_dispatcher, signed_in, live_server):
    today = timezone.localdate()
    page = signed_in(district_dispatcher, **PHONE)
    start = (today - timedelta(days=10)).isoformat()
    page.goto(f"{live_server.url}/dashboard/?from={start}&to={today}")
    page.wait_for_selector(f"#dmap-figures[data-period='{start}/{today}']")
    assert page.locator("#dmap-from").is_visible() and page.locator("#dmap-to").is_visible()
    fits(page, 390)
    for field in ("#dmap-days", "#dmap-from", "#dmap-to"):
        box = page.locator(field).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["height"] >= 30  # a thumb can use it
    page.screenshot(path=str(SHOTS / "phone-390-period.png"), full_page=True)
