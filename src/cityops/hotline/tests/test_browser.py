"""The call screen in Debian's chromium: it runs under the Content-Security-Policy (no inline script), and
typing another category code selects it (that used to be an inline oninput handler)."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_other_category_code_is_selected_as_typed_without_inline_script(page, live_server, login, wuhan, model,
                                                                       operator):
    csp: list[str] = []
    page.on("console", lambda msg: csp.append(msg.text) if "Content Security Policy" in msg.text else None)
    login(page, operator)
    page.goto(f"{live_server.url}/hotline/")
    page.fill("#hl-text", "喂你好，光谷广场这边下大雨积水好深，车子都熄火了")
    page.wait_for_selector("#hl-other")
    page.locator("#hl-other").press_sequentially("e0101")
    assert page.locator("#hl-other-radio").is_checked()
    assert page.eval_on_selector("#hl-other-radio", "r => r.value") == "E0101"
    assert csp == []


def test_the_confidence_bar_shows_and_the_panel_says_it_is_working(page, live_server, login, wuhan, model, operator):
    """Issue 13: `.hl-form label { display: block }` used to win over the candidate rows, so the bar — a flex
    item — collapsed to nothing. The filled part of the top candidate's bar has its share of the width now; the
    panel shows a loading indicator while a suggestion is on its way."""
    login(page, operator)
    page.goto(f"{live_server.url}/hotline/")
    assert page.locator("#hl-loading").count() == 1
    page.fill("#hl-text", "喂你好，光谷广场这边下大雨积水好深，车子都熄火了")
    page.wait_for_selector(".hl-cand .bar span")
    outer = page.locator(".hl-cand .bar").first.bounding_box()
    filled = page.locator(".hl-cand .bar span").first.bounding_box()
    share = page.eval_on_selector(".hl-cand .bar span", "s => parseFloat(s.style.width)")  # percent
    assert outer["width"] >= 60 and outer["height"] >= 4
    assert filled["height"] >= 4 and abs(filled["width"] - outer["width"] * share / 100) <= 2
