"""The portal's report and tracking flows in Debian's chromium (playwright), on a live server."""

import pytest

from cityops.cases.models import Case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pin_at(page, lat, lon):
    # A click on the map at the point's pixel: what a resident does with a finger.
    xy = page.evaluate(
        """([lat, lon]) => { const m = window.__portalMap; const p = m.latLngToContainerPoint([lat, lon]);
           return [p.x, p.y]; }""",
        [lat, lon],
    )
    page.locator("#report-map").click(position={"x": xy[0], "y": xy[1]})


def test_report_with_search_pin_and_photo_then_track(page, live_server, city, tmp_path, jpeg_bytes):
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": 30.5373, "longitude": 114.3362})
    page.goto(f"{live_server.url}/portal/report/")
    scripts = page.eval_on_selector_all("script[src]", "els => els.map(e => e.src)")
    assert scripts and all(s.startswith(live_server.url) for s in scripts)  # nothing from the internet

    page.fill("#category-search", "井盖")
    assert page.locator(".category-item:visible").count() == 1
    page.locator(".category-item:visible").click()
    page.click("#use-location")
    page.wait_for_selector("#pin-info[data-placed='1']", state="attached")
    page.fill("#description", "中南路口井盖缺失，晚上很危险")
    photo = tmp_path / "cover.jpg"
    photo.write_bytes(jpeg_bytes)
    page.set_input_files("#photos", str(photo))
    page.fill("#phone", "13812345678")
    page.click("#submit-report")
    page.wait_for_url(f"{live_server.url}/portal/report/done/")
    code = page.inner_text("#case-code")
    key = page.inner_text("#tracking-key")
    case = Case.objects.get(code=code)
    assert case.source == "portal" and case.photos.count() == 1 and case.district_code == "420106"

    page.click("text=查看进度")
    assert page.inner_text("#status-text") == "已收到，等待受理"
    page.fill("#track-key", key)
    page.click("#track-form button[type=submit]")
    assert "中南路口井盖缺失" in page.inner_text("#own-description")


def test_nearby_case_offered_and_voice_added(page, live_server, city):
    from cityops.cases.services import case_create

    kept = case_create(actor=None, category="C0101", description="井盖不见了", source="portal",
                       lon="114.3362", lat="30.5373").case
    page.goto(f"{live_server.url}/portal/report/")
    page.locator("input[name=category][value=C0101]").check(force=True)
    pin_at(page, 30.5373, 114.3362)
    page.wait_for_selector("#nearby:not([hidden])")
    assert kept.code in page.inner_text("#nearby-list")
    page.click(f".support-button[data-code='{kept.code}']")
    page.wait_for_url(f"{live_server.url}/portal/report/done/")
    assert kept.code in page.inner_text("#support-note")
    voice = Case.objects.exclude(pk=kept.pk).get()
    assert voice.portal.supports_id == kept.pk


def test_error_shown_in_the_pages_language(page, live_server, city):
    page.goto(f"{live_server.url}/portal/report/")
    page.locator("input[name=category][value=C0101]").check(force=True)
    page.fill("#description", "没有位置")
    page.click("#submit-report")
    alert = page.inner_text("#portal-error")
    assert "请提供坐标或地址" in alert and "Give either" not in alert  # issue 13: one language at a time


def test_public_map_shows_cases(page, live_server, city):
    from cityops.cases.services import case_create

    case_create(actor=None, category="C0101", description="井盖", source="portal", lon="114.3362", lat="30.5373")
    page.goto(f"{live_server.url}/portal/map/")
    page.wait_for_selector("#case-map[data-loaded='1']")
    page.select_option("#filter-category", "E0101")
    page.wait_for_selector("#case-map[data-loaded='0']")
