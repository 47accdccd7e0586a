"""One case from intake to archive through the web UI in Chromium, carried by five different people: the
operator takes the call (map pin, photo) and registers it, the dispatcher dispatches it from the queue, the
sanitation department accepts and handles it inline, the grid worker verifies it on a phone-sized screen, the
shift lead closes it, and the operator's follow-up archives it."""

import io

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 140, 90)).save(out, "JPEG")
    return out.getvalue()


def _wuchang_point() -> tuple[float, float]:
    """A community centre inside 武昌区 (420106), where the grid worker works."""
    from cityops.geo.models import Region
    from cityops.geo.selectors import locate_point

    for region in Region.objects.filter(level="community", code__startswith="420106").order_by("code")[:50]:
        location = locate_point(lon=region.centroid_lon, lat=region.centroid_lat)
        if location.community is not None and location.community.code == region.code:
            return region.centroid_lon, region.centroid_lat
    raise AssertionError("no community of 420106 in the demo city")


@pytest.fixture
def city(wuhan):
    from cityops.accounts.demo import load_departments, load_roles
    from cityops.cases.demo import load_categories

    load_roles()
    load_departments()
    load_categories()
    return wuhan


@pytest.fixture
def as_user(browser, login):
    contexts = []

    def open_as(user, **viewport):
        context = browser.new_context(locale="zh-CN", viewport=viewport or {"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        login(page, user)
        return page

    yield open_as
    for context in contexts:
        context.close()


def _wait_state(code: str, state: str):
    from cityops.cases.models import Case

    case = Case.objects.get(code=code)
    assert case.state == state, (case.state, state)
    return case


def test_one_case_from_intake_to_archive(city, live_server, as_user, operator, dispatcher, handler_hw, grid_worker,
                                        shift_lead):
    from cityops.cases.models import Case
    from cityops.core.timeline import timeline_for

    lon, lat = _wuchang_point()
    url = live_server.url

    # 1. 受理员: the intake form — searchable category list, map pin, description, phone, a photo.
    page = as_user(operator)
    page.get_by_role("link", name="上报受理").first.click()
    page.wait_for_url(f"{url}/cases/new/")
    page.wait_for_selector("#intake-map[data-basemap=loaded]")  # the base map drew its outlines and names
    page.fill("#category-search", "暴露垃圾")
    assert page.locator("#id_category option[value=E0101]").is_visible()
    assert not page.locator("#id_category option[value=E0103]").is_visible()
    page.select_option("#id_category", "E0101")
    page.evaluate("([lat, lon]) => window.cityopsCaseMap.set(lat, lon, 16)", [lat, lon])
    box = page.locator("#intake-map").bounding_box()
    # A click on the map moves the pin there (just below the marker, still inside the community).
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2 + 8)
    picked_lat = float(page.input_value("#id_lat"))
    picked_lon = float(page.input_value("#id_lon"))
    assert abs(picked_lon - lon) < 0.002 and abs(picked_lat - lat) < 0.002 and picked_lat < lat
    page.fill("#id_address", "中北路口东侧人行道")
    page.fill("#id_description", "人行道上有一堆暴露垃圾，影响通行")
    page.fill("#id_reporter_phone", "13812345678")
    page.set_input_files("#id_photos", files=[{"name": "scene.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}])
    page.click("#intake-submit")
    page.wait_for_selector("#case-code")
    code = page.inner_text("#case-code").strip()
    case = _wait_state(code, "reported")
    assert case.photos.count() == 1 and case.region_code.startswith("420106") and case.lead_department is None
    assert page.locator("#photos img").count() == 1
    assert "13812345678" in page.inner_text("#reporter-phone")
    page.click("#form-register button[type=submit]")
    page.wait_for_selector(".messages .msg-success")
    assert page.inner_text("#case-state") == "待派遣"
    _wait_state(code, "registered")

    # 2. 派遣员: from the home card to the queue; one click sends it to the proposed department.
    page = as_user(dispatcher)
    page.get_by_role("link", name="派遣队列").first.click()
    row = page.locator(f"#case-{code}")
    assert row.locator("select[name=department]").input_value() == "HW"
    row.locator("form.act-dispatch button[type=submit]").click()
    page.locator(f"#case-{code} .notice.ok").wait_for()
    assert "待签收" in page.locator(f"#case-{code}").inner_text()
    case = _wait_state(code, "dispatched")
    assert case.lead_department.code == "HW"

    # 3. 专业部门: the queue by deadline with traffic lights; accept, then handle, both in place.
    page = as_user(handler_hw)
    page.goto(f"{url}/cases/queue/")
    row = page.locator(f"#case-{code}")
    assert row.locator(".light.light-green").count() == 1
    assert "138****5678" not in row.inner_text()
    row.locator("form.act-accept button").click()
    page.locator(f"#case-{code} .notice.ok", has_text="签收").wait_for()
    _wait_state(code, "accepted")
    row = page.locator(f"#case-{code}")
    row.locator("details.act-handle summary").click()
    row.locator("details.act-handle textarea[name=result]").fill("已清运并冲洗地面")
    row.locator("details.act-handle button[type=submit]").click()
    page.locator(f"#case-{code} .notice.ok", has_text="处置完毕").wait_for()
    _wait_state(code, "handled")
    page.goto(f"{url}/cases/{code}/")
    assert "138****5678" in page.inner_text("#reporter-phone")

    # 4. 网格员 on a phone: the task list fits a 390 px screen; verify on site.
    page = as_user(grid_worker, width=390, height=844)
    page.get_by_role("link", name="待核查").first.click()  # the home card of handled cases to check on site
    card = page.locator(f"#task-{code}")
    card.wait_for()
    page.wait_for_load_state("load")  # the page's stylesheets applied before its layout is measured
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    verify = card.locator("form.act-verify button")
    assert verify.bounding_box()["width"] > 300  # a full-width touch target
    verify.click()
    page.locator(f"#task-{code} .notice.ok").wait_for()
    _wait_state(code, "verified")

    # 5. 值班长: closes it from the approvals page.
    page = as_user(shift_lead)
    page.get_by_role("link", name="待审批").first.click()
    page.wait_for_url(f"{url}/cases/approvals/")
    page.locator(f"#sec-verified #case-{code} form.act-close button").click()
    page.locator(f"#case-{code} .notice.ok").wait_for()
    _wait_state(code, "closed")

    # 6. 受理员 again: the follow-up call, satisfied → archived.
    page = as_user(operator)
    page.goto(f"{url}/cases/{code}/")
    page.fill("#form-follow_up input[name=note]", "市民表示满意")
    page.click("#form-follow_up button[type=submit]")
    page.wait_for_selector(".messages .msg-success")
    assert page.inner_text("#case-state") == "已归档"
    case = _wait_state(code, "archived")
    assert case.satisfaction is True
    timeline = page.inner_text("#timeline")
    for label in ("上报", "立案", "派遣", "签收", "处置完毕", "核查通过", "结案", "回访满意"):
        assert label in timeline
    actors = {e.actor_id for e in timeline_for(Case.objects.get(code=code)) if e.actor_id}
    assert len(actors) >= 4
    # The map shows the district outlines and the case marker, all served locally.
    page.wait_for_selector("#case-map .leaflet-marker-icon")
    scripts = page.eval_on_selector_all("script[src]", "els => els.map(e => e.src)")
    assert all(s.startswith(url) for s in scripts)
