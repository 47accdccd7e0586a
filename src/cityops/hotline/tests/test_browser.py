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
