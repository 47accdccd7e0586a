# ruff: noqa: F811  (pytest fixtures imported from test_campaigns are parameters here)
"""The visit page in a stairwell (Chromium at 390 px): opened once with signal, its service worker keeps it; without
signal the page is reloaded from that copy, a visit is typed and waits (counted on the page); back online it is sent
by itself and stored once. The worker's scope is the visit pages only, and its script obeys the site's CSP."""

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


def test_the_visit_page_opens_offline_and_its_visit_is_stored_once(campaign, hy_worker, browser, login,
                                                                   live_server):
    from cityops.disputes.models import Visit

    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        login(page, hy_worker)
        visit_url = f"{live_server.url}/disputes/campaigns/visit/"
        page.goto(visit_url)
        page.wait_for_selector("#visit-form[data-offline=ready]", state="attached")  # the page and files are kept
        scope = page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.scope)")
        assert scope == visit_url  # the visit pages only
        assert page.evaluate("!!navigator.serviceWorker.controller")

        # No signal: the page reloads from the kept copy, with its scripts (the outbox is drawn by visit.js).
        context.set_offline(True)
        page.reload()
        page.wait_for_selector("#outbox[data-waiting='0']", state="attached")
        page.wait_for_selector("#net-status.offline")
        assert "天天敲门" in page.inner_text("h1")
        page.fill("#id_place", "青和居 3栋2单元502")
        page.select_option("#id_region_code", label="东社区01号网格")
        page.fill("#id_findings", "邻里停车纠纷，已劝解")
        page.select_option("#id_outcome", "resolved")
        page.click("#visit-submit")
        page.wait_for_selector("#outbox li.waiting")
        assert page.inner_text("#outbox-count") == "1"  # how many wait to be sent
        assert not Visit.objects.exists()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        # Signal back: sent by itself, stored once; reopened online, nothing is sent again.
        context.set_offline(False)
        page.wait_for_selector("#outbox[data-waiting='0']", state="attached", timeout=40000)
        assert page.inner_text("#outbox-count") == "0"
        visit = Visit.objects.get()
        assert visit.place == "青和居 3栋2单元502" and visit.outcome == "resolved"
        page.goto(visit_url)
        page.wait_for_selector("#outbox[data-waiting='0']", state="attached")
        assert Visit.objects.count() == 1 and "青和居 3栋2单元502" in page.inner_text("#visits-today")

        # Outside its scope the worker answers nothing: another page offline is the browser's own error.
        context.set_offline(True)
        with pytest.raises(Exception):  # noqa: B017, PT011 — playwright's net::ERR_INTERNET_DISCONNECTED
            page.goto(f"{live_server.url}/disputes/campaigns/")
        assert not [e for e in errors if "Content Security Policy" in e]
    finally:
        context.close()



def test_signing_out_forgets_the_kept_page(campaign, hy_worker, browser, login, live_server):
    """A shared phone: the worker signs out; the next person, without signal, does not get the worker's kept visit
    page (today's households, the outbox) — the login page dropped the copy — but the page that says to open it once
    online."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        login(page, hy_worker)
        visit_url = f"{live_server.url}/disputes/campaigns/visit/"
        page.goto(visit_url)
        page.wait_for_selector("#visit-form[data-offline=ready]", state="attached")
        assert page.evaluate("caches.keys().then(k => k.filter(n => n.startsWith('cityops-visit-')).length)") == 1

        page.goto(f"{live_server.url}/")
        page.get_by_role("button", name="菜单").click()  # at phone size the links are in the menu
        page.locator("form[action='/accounts/logout/'] button").first.click()
        page.wait_for_url(f"{live_server.url}/accounts/login/**")
        page.wait_for_selector("html[data-kept-pages=forgotten]", state="attached")
        assert page.evaluate("caches.keys().then(k => k.filter(n => n.startsWith('cityops-visit-')).length)") == 0

        context.set_offline(True)
        page.goto(visit_url)
        text = page.inner_text("body")
        assert "请在有信号时打开一次本页" in text and "天天敲门" not in text
    finally:
        context.close()
