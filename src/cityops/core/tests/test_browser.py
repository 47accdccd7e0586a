"""The foundation through a real browser: log in, see the role's home page, switch to English, open the map."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_home_language_switch_and_map(page, live_server, login, operator):
    login(page, operator)
    assert page.locator("h1").inner_text().startswith("工作台")
    assert page.get_by_role("link", name="上报受理").first.is_visible()

    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Workbench")
    assert page.get_by_role("link", name="Report intake").first.is_visible()

    page.goto(f"{live_server.url}/geo/")
    page.wait_for_selector(".leaflet-container")
    # Leaflet is served by cityops itself: no request left the machine.
    scripts = page.eval_on_selector_all("script[src]", "els => els.map(e => e.src)")
    assert scripts and all(s.startswith(live_server.url) for s in scripts)


def test_wrong_password_shows_an_error(page, live_server, operator):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", operator.username)
    page.fill("input[name=password]", "not-the-password")
    page.click("#login-submit")
    assert page.get_by_role("alert").inner_text() == "用户名或密码不正确。"
