# ruff: noqa: F811  (pytest fixtures imported from test_documents are parameters here)
"""The documents page on a tablet-sized phone screen in Chromium (390 px): nothing overflows; the signature pad
refuses an empty pad in the page, and a drawn signature is recorded as the party's tablet signature."""

from __future__ import annotations

import pytest

from cityops.disputes.tests.test_documents import (  # noqa: F401 (fixtures)
    _media,
    agreed,
    dispute,
    geography,
    people,
    reference,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_party_signs_on_the_pad_at_phone_width(agreed, people, browser, login, live_server):
    from PIL import Image

    from cityops.disputes.models import Signature

    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        login(page, people["mediator"])
        page.goto(f"{live_server.url}/disputes/documents/{agreed.pk}/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert "人民调解协议书" in page.inner_text("#documents")

        form = page.locator("#form-tablet")
        form.locator("select[name=party_id]").select_option(label="申请方：张三丰")
        # An empty pad is refused in the page: nothing is sent.
        form.locator("button[type=submit]").click()
        assert form.locator(".sig-error").inner_text() == "请先在签名板上签名"
        assert not Signature.objects.exists()

        box = form.locator("canvas").bounding_box()
        page.mouse.move(box["x"] + 20, box["y"] + 100)
        page.mouse.down()
        for x, y in ((80, 40), (140, 150), (200, 60), (260, 120)):
            page.mouse.move(box["x"] + x, box["y"] + y, steps=5)
        page.mouse.up()
        form.locator("button[type=submit]").click()
        page.wait_for_selector(".msg-success")
        assert "已记录 张三丰 的签名" in page.inner_text(".messages")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        signature = Signature.objects.get()
        assert (signature.party.name, signature.method) == ("张三丰", "tablet")
        with signature.file.open("rb") as f, Image.open(f) as img:
            assert img.format == "PNG"
            white = Image.new("RGBA", img.size, (255, 255, 255, 255))
            darkest, _ = Image.alpha_composite(white, img.convert("RGBA")).convert("L").getextrema()
            assert darkest < 100  # the strokes drawn are in the picture
    finally:
        context.close()
