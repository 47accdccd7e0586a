"""At a phone's width (390 px) the warning pages do not overflow: the open warnings with their case links, and one
warning with its actions, cases and timeline — in Chromium."""

from datetime import timedelta

import pytest

from cityops.core import roles
from cityops.dashboard.models import EarlyWarning
from cityops.dashboard.services import early_warning_run

from .conftest import NOW, PHONE, WUCHANG_STREET, fits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_warning_pages_fit_a_phone(quiet_history, add_cases, make_user, signed_in, live_server):
    add_cases("E0106", WUCHANG_STREET, [NOW - timedelta(minutes=m) for m in range(1, 29, 2)])  # 14 complaints
    early_warning_run(now=NOW)
    warning = EarlyWarning.objects.get()
    page = signed_in(make_user("phone_shiftlead", roles.SHIFT_LEAD), **PHONE)
    for url, selector in (("/dashboard/warnings/", "#warning-list"), (f"/dashboard/warnings/{warning.pk}/", "#cases")):
        page.goto(f"{live_server.url}{url}")
        page.wait_for_selector(selector)
        fits(page, 390)
    assert page.locator("#cases a[href^='/cases/']").count() >= 14
    page.click("#actions button:has-text('确认')")
    page.wait_for_selector(".state-badge:has-text('已确认')")
    assert EarlyWarning.objects.get().state == "acknowledged"
