"""At a phone's width (390 px) nothing of the stability pages overflows: the decision page of the assessing staff
(register, moderation, visit and hearing forms, actions) and the public consultation page of a resident."""

import pytest

from cityops.stability import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_stability_pages_fit_a_phone(walk, browser, login, live_server, assessor, resident):
    d = walk("consultation")
    services.comment_submit(decision=d, actor=resident, stance="oppose",
                            text="补偿标准偏低，" * 30)  # a long comment without spaces must wrap
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        login(page, assessor)
        for url, selector in ((f"/stability/{d.pk}/", "#risks"), ("/stability/", "#decisions"),
                              (f"/stability/public/{d.pk}/", "#comments")):
            page.goto(f"{live_server.url}{url}")
            page.wait_for_selector(selector)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/accounts/login/")  # a resident's home is the portal: no wait for "/"
        page.fill("input[name=username]", resident.username)
        page.fill("input[name=password]", "pw-cityops-test")
        page.click("#login-submit")
        page.wait_for_load_state()
        page.goto(f"{live_server.url}/stability/public/{d.pk}/")
        page.wait_for_selector("#comment-form")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
