"""Sending a report with photos says so (issue 13): after the tap the button is disabled (no second report from a
second tap) and "正在提交…" shows until the next page arrives; back on the form, it works again."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_submitting_with_photos_shows_it_is_sending(page, live_server, city, tmp_path, jpeg_bytes):
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": 30.5373, "longitude": 114.3362})
    page.goto(f"{live_server.url}/portal/report/")
    assert not page.is_visible("#submit-loading")
    page.locator("input[name=category][value=C0101]").check(force=True)
    page.click("#use-location")
    page.wait_for_selector("#pin-info[data-placed='1']", state="attached")
    page.fill("#description", "中南路口井盖缺失，晚上很危险")
    photo = tmp_path / "cover.jpg"
    photo.write_bytes(jpeg_bytes)
    page.set_input_files("#photos", str(photo))
    held = []  # the POST waits here while the page is looked at, as on a slow phone connection
    page.route("**/portal/report/", lambda route: held.append(route) if route.request.method == "POST"
               else route.continue_())
    # A tap, and what the page shows right after it (the navigation is held above, as a slow upload would).
    disabled, shown, loading = page.evaluate("""() => {
        const button = document.getElementById("submit-report");
        button.click();
        return [button.disabled, !document.getElementById("submit-loading").hidden,
                document.getElementById("report-form").classList.contains("is-loading")]; }""")
    assert disabled and shown and loading
    page.wait_for_timeout(300)  # the route handler runs
    assert held, "the report was not sent"
    held[0].continue_()
    page.wait_for_url(f"{live_server.url}/portal/report/done/")
