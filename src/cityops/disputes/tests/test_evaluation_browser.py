# ruff: noqa: F811  (pytest fixtures imported from test_evaluation are parameters here)
"""The evaluation page in Chromium at phone width (390 px): every table fits (rows become cards with their labels)
and rows are named, not coded."""

from __future__ import annotations

import pytest

from cityops.disputes.tests.test_evaluation import agreed, world  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_evaluation_page_fits_a_phone(world, browser, login, live_server):
    agreed(world, "k1", "m1")
    agreed(world, "k2", "m2", late=True)
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        login(page, world["leader"])
        page.goto(f"{live_server.url}/disputes/evaluation/")
        page.wait_for_selector("#evaluation-committees")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        text = page.inner_text("#evaluation-committees")
        assert "翠微街团结社区人民调解委员会" in text and "T-K1" not in text
        assert page.locator("#evaluation-committees td[data-label='按期调解率']").count() == 2  # labelled cards
        assert "该时段没有排查化解行动" in page.inner_text("#evaluation-campaigns")
        for fmt in ("xlsx", "csv"):  # the exports are reachable on the phone, inside its width
            link = page.locator(f"#evaluation-period a[href^='/disputes/evaluation/export.{fmt}']")
            box = link.bounding_box()
            assert link.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= 390
    finally:
        context.close()
