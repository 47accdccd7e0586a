"""At a phone's width (390 px) the briefings' list and one briefing do not overflow, and the PDF link downloads the
PDF — in Chromium."""

from pathlib import Path

import pytest

from cityops.dashboard import briefings

from .conftest import PHONE, fits
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


def test_briefing_pages_fit_a_phone(cases, day, district_dispatcher, signed_in, live_server):  # noqa: F811
    mine, _ = briefings.make(kind="daily", day=day, region="420106", send=False)
    briefings.make(kind="daily", day=day, region="420102", send=False)
    page = signed_in(district_dispatcher, **PHONE, accept_downloads=True)
    page.goto(f"{live_server.url}/dashboard/briefings/")
    page.wait_for_selector("#briefing-list")
    fits(page, 390)
    assert page.locator("#briefing-list li").count() == 1  # their district's only
    page.click("#briefing-list a:has-text('武昌区')")
    page.wait_for_selector(".bfig")
    fits(page, 390)
    with page.expect_download() as got:
        page.click("a:has-text('下载 PDF')")
    assert got.value.suggested_filename.endswith(".pdf")
    assert Path(got.value.path()).read_bytes()[:4] == b"%PDF"
    assert f"/dashboard/briefings/{mine.pk}/" in page.url
