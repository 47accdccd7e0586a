"""At a phone's width (390 px) nothing of the dispute pages overflows: the centre's desk, the list, a dispute's page
with its parties, action forms and timeline, the mediator's queue; the resident's application, list and progress."""

import pytest

from cityops.disputes import services
from cityops.disputes.tests import test_intake as intake

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
geography, reference, world, walk_in = intake.geography, intake.reference, intake.world, intake.walk_in


def test_dispute_pages_fit_a_phone(world, walk_in, browser, live_server):
    long_text = "楼上卫生间长期漏水导致楼下天花板霉变，" * 20  # a long text without spaces must wrap
    d = services.accept(dispute=walk_in(description=long_text), actor=world["staff"], channel="people",
                        committee_id=world["east"].pk)
    services.assign(dispute=d, actor=world["staff"], mediator_id=world["mediator"].pk)
    mine = walk_in(actor=world["resident"], source="portal", title="我的申请", description=long_text)
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        for user, pages in (
            (world["staff"], [("/disputes/desk/", "#intake-form"), ("/disputes/", "#dispute-rows"),
                              (f"/disputes/{d.pk}/", "#timeline")]),
            (world["mediator"], [("/disputes/queue/", "#dispute-rows"), (f"/disputes/{d.pk}/", "#form-start")]),
            (world["resident"], [("/disputes/apply/", "#intake-form"), ("/disputes/mine/", "#my-disputes"),
                                 (f"/disputes/{mine.pk}/", "#public-timeline")]),
        ):
            page.context.clear_cookies()
            page.goto(f"{live_server.url}/accounts/login/?next={pages[0][0]}")  # a resident's home is the portal
            page.fill("input[name=username]", user.username)
            page.fill("input[name=password]", "pw-cityops-test")
            page.click("#login-submit")
            page.wait_for_url(f"{live_server.url}{pages[0][0]}")
            for url, selector in pages:
                page.goto(f"{live_server.url}{url}")
                page.wait_for_selector(selector)
                assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
                if selector == "#intake-form":  # a key per form shown: sent twice, registered once
                    assert page.input_value("#intake-form input.idem")
    finally:
        context.close()
