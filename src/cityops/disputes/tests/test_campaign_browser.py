# ruff: noqa: F811  (pytest fixtures imported from test_campaigns are parameters here)
"""The phone page in Chromium at 390 px: a grid worker types a visit without signal, the visit waits in the
browser; back online it is sent by itself and stored exactly once — also when the server's first answer is lost
on the way and the phone sends the visit again. Then the campaign's page on the same phone shows it."""

from __future__ import annotations

import pytest

from cityops.disputes.tests.test_campaigns import (  # noqa: F401 (fixtures)
    campaign,
    centre_staff,
    geography,
    hy_worker,
    reference,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_visit_typed_offline_is_sent_once_back_online(campaign, hy_worker, browser, login, live_server):
    from cityops.disputes.models import Visit

    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        login(page, hy_worker)
        page.goto(f"{live_server.url}/disputes/campaigns/visit/")
        page.wait_for_selector("#outbox[data-waiting='0']", state="attached")  # visit.js is running
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone

        # No signal: the visit is kept in the browser and shown as waiting.
        context.set_offline(True)
        page.wait_for_selector("#net-status.offline")
        page.fill("#id_place", "青和居 3栋2单元501")
        page.select_option("#id_region_code", label="东社区01号网格")
        page.fill("#id_people_met", "户主李阿姨")
        assert not page.locator("#dispute-fields").is_visible()  # the parties only when a dispute is found
        page.select_option("#id_outcome", "dispute")
        assert page.locator("#dispute-fields").is_visible() and not page.locator("#case-fields").is_visible()
        page.select_option("#id_outcome", "resolved")
        assert not page.locator("#dispute-fields").is_visible() and not page.locator("#case-fields").is_visible()
        page.fill("#id_findings", "楼上漏水引起争执，当场协调物业维修")
        page.click("#visit-submit")
        page.wait_for_selector("#outbox li.waiting")
        assert "青和居 3栋2单元501" in page.inner_text("#outbox")
        assert page.inner_text("#outbox-count") == "1"
        assert page.input_value("#id_place") == ""  # the form is ready for the next door
        assert not Visit.objects.exists()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        # The signal returns, but the server's first answer is lost on the way: the visit stays and is sent again.
        answers = []

        def lose_first_answer(route):
            response = route.fetch()
            answers.append(response.status)
            if len(answers) == 1:
                route.abort()
            else:
                route.fulfill(response=response)

        page.route("**/api/v1/disputes/campaigns/visits", lose_first_answer)
        context.set_offline(False)
        page.wait_for_selector("#outbox[data-waiting='0']", state="attached", timeout=40000)
        assert answers == [201, 200]  # stored the first time; the second sending found it
        page.unroute_all(behavior="ignoreErrors")
        assert "青和居 3栋2单元501" in page.inner_text("#visits-today")
        assert page.inner_text("#outbox-count") == "0"

        visit = Visit.objects.get()
        assert visit.campaign == campaign and visit.outcome == "resolved" and visit.people_met == "户主李阿姨"
        assert visit.region_code == "42010500100101"

        # Opened again: nothing waits, nothing is sent twice.
        page.reload()
        page.wait_for_selector("#outbox[data-waiting='0']", state="attached")
        assert Visit.objects.count() == 1
        assert "青和居 3栋2单元501" in page.inner_text("#visits-today")

        # The campaign's page on the same phone: the visit counted and on the map over the base map.
        page.goto(f"{live_server.url}/disputes/campaigns/{campaign.pk}/")
        page.wait_for_selector("#campaign-map[data-points='1']", state="attached")
        page.wait_for_selector("#campaign-map[data-basemap=loaded]", state="attached")
        assert "当场化解 1 起" in page.inner_text("#fig-visits")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()


def test_the_organiser_edits_a_campaign_on_a_phone(campaign, centre_staff, browser, login, live_server):
    """At 390 px: the campaign's page links to 修改, the form fits, a period ending before it starts is said beside
    the end date, a good change is saved and shows on the campaign's timeline."""
    from datetime import timedelta

    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        login(page, centre_staff)
        page.goto(f"{live_server.url}/disputes/campaigns/{campaign.pk}/")
        page.click("#campaign-edit")
        page.wait_for_selector("#campaign-form")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.fill("#id_ends_on", (campaign.starts_on - timedelta(days=1)).isoformat())
        page.click("#campaign-submit")
        page.wait_for_selector("#campaign-form .error")
        assert "结束日期早于开始日期" in page.inner_text("#campaign-form")
        page.fill("#id_ends_on", (campaign.ends_on + timedelta(days=14)).isoformat())
        page.fill("#id_goal", "每户走访两遍")
        page.click("#campaign-submit")
        page.wait_for_selector("#campaign-timeline")
        timeline = page.inner_text("#campaign-timeline")
        assert "修改排查行动" in timeline and "每户走访两遍" in timeline
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
