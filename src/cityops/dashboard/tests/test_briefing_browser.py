"""At a phone's width (390 px) the briefings' list and one briefing do not overflow, and the PDF link downloads the
PDF — in Chromium."""

from pathlib import Path

import pytest

from cityops.dashboard import briefings

from .test_briefings import (  # noqa: F401
    at,
    cases,
    data_dir,
    day,
    district_dispatcher,
    district_units,
    geography,
    reference,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_briefing_pages_fit_a_phone(cases, day, district_dispatcher, browser, login, live_server):  # noqa: F811
    mine, _ = briefings.make(kind="daily", day=day, region="420106", send=False)
    briefings.make(kind="daily", day=day, region="420102", send=False)
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, accept_downloads=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        login(page, district_dispatcher)
        page.goto(f"{live_server.url}/dashboard/briefings/")
        page.wait_for_selector("#briefing-list")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.locator("#briefing-list li").count() == 1  # their district's only
        page.click("#briefing-list a:has-text('武昌区')")
        page.wait_for_selector(".bfig")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        with page.expect_download() as got:
            page.click("a:has-text('下载 PDF')")
        assert got.value.suggested_filename.endswith(".pdf")
        assert Path(got.value.path()).read_bytes()[:4] == b"%PDF"
        assert f"/dashboard/briefings/{mine.pk}/" in page.url
    finally:
        context.close()
