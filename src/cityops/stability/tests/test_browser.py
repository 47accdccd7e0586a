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


def test_the_area_map_is_drawn_with_its_dots_for_staff_only(walk, browser, login, live_server, assessor, operator):
    """The decision page draws the polygon and the linked case as a dot (Leaflet and the base map served locally,
    under the CSP: no violation in the console); the public page draws the area without any dot; both at 390 px."""
    from datetime import timedelta

    from cityops.cases.demo import load_categories
    from cityops.cases.models import Case, Category
    from cityops.core.workflow import create_with_timeline
    from cityops.stability.tests.conftest import AREA, STREET

    d = walk("monitoring", area=AREA)
    load_categories()
    create_with_timeline(Case(code="STMAP000001", source="hotline", category=Category.objects.get(code="E0101"),
                              lon=114.21, lat=30.55, region_code=STREET + "001", district_code=STREET[:6],
                              description="施工噪音扰民", created_at=d.published_at + timedelta(days=1)), actor=operator)
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        refused = []
        page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        login(page, assessor)
        for url, dots in ((f"/stability/{d.pk}/", "1"), (f"/stability/public/{d.pk}/", "0")):
            page.goto(f"{live_server.url}{url}")
            page.wait_for_selector("#stability-map[data-area=drawn]")
            assert page.get_attribute("#stability-map", "data-points") == dots, url
            drawn = page.evaluate("""() => { const n = {area: 0, dots: 0};
                window.__stabilityMap.eachLayer(l => { if (l instanceof L.Polygon) n.area++;
                                                       else if (l instanceof L.CircleMarker) n.dots++; });
                return n; }""")
            assert drawn == {"area": 1, "dots": int(dots)}, url
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
        page.context.clear_cookies()  # anyone, signed in or not: the area over the base map, no dot
        page.goto(f"{live_server.url}/stability/public/{d.pk}/")
        page.wait_for_selector("#stability-map[data-area=drawn][data-basemap=loaded]")
        assert page.get_attribute("#stability-map", "data-points") == "0"
        assert refused == []
    finally:
        context.close()


def test_the_new_decision_form_fits_a_phone(area_regions, proposer, browser, login, live_server):
    """The proposing unit's staff register a decision on a phone: the regions of their area offered by name, several
    chosen; the decision's page names them all."""
    from cityops.stability.models import Decision
    from cityops.stability.tests.conftest import ASSESSING, COMMUNITY, STREET

    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        login(page, proposer)
        page.goto(f"{live_server.url}/stability/new/")
        page.wait_for_selector("#decision-new")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.fill("#id_title", "鹦鹉社区停车场改造")
        page.fill("#id_description", "改造停车场，调整收费")
        page.select_option("#id_assessing_unit", ASSESSING)
        page.select_option("#id_region_codes", [STREET, COMMUNITY])
        page.click("#decision-new button[type=submit]")
        page.wait_for_selector("#risks, .facts, main h1")
        d = Decision.objects.get(title="鹦鹉社区停车场改造")
        assert d.region_codes == [STREET]  # 鹦鹉社区 lies in 鹦鹉街道: once
        assert "鹦鹉街道" in page.inner_text("main") and page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
