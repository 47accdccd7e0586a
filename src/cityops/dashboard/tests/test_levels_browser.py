"""The 属地解决率 panel of the map page in Chromium: each level's bar and its figure are that level's own share of the
period's closings (they agree), and the 属地解决率 proper — closings resolved at the community or the street — is the
line under them. Before, each bar was the level's count while its figure was the running total up to it, so a street
with no closing read "100.0%" beside an empty bar."""

import pytest

from cityops.core import roles
from cityops.dashboard.tests import test_briefings as briefing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Yesterday's small city of the briefings' tests: one closing, resolved at the community (W2).
geography, reference, cases, day, data_dir = (briefing.geography, briefing.reference, briefing.cases, briefing.day,
                                              briefing.data_dir)


def test_each_level_shows_its_own_share_and_the_local_rate_under_them(cases, make_user, dashboard):
    page = dashboard(make_user("t_levels_leader", roles.LEADER), "/dashboard/?days=7")
    panel = page.locator(".dfig-section", has_text="属地解决率")
    rows = panel.inner_text()
    assert "社区" in rows and "100.0%" in rows
    street = panel.locator(".dbar", has_text="街道").inner_text()
    assert "0.0%" in street and "100.0%" not in street  # no closing at the street: 0 %, not the running total
    assert panel.locator("p.muted").inner_text() == "属地解决率 100.0%"
