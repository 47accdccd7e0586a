"""The areas coloured by load or by score on the dashboard's map, in Chromium: the switch, the legend's classes, the
areas' fill, and a grid's card with its name, score and rank (the timeline of test_scores: grid 42010600100101 scores
88, B). A department's handler, who may not read the regions' evaluation, gets no switch."""

import pytest

from cityops.cases.tests.conftest import POINT_WUCHANG_A
from cityops.core import roles
from cityops.dashboard.tests import test_map_api as small_city
from cityops.dashboard.tests import test_scores as scored_city
from cityops.dashboard.tests.conftest import SHOTS, click_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

geography, reference, cases, timeline = (scored_city.geography, scored_city.reference, small_city.cases,
                                         scored_city.timeline)
_no_cache = scored_city._no_cache


def _fill_at(page, lon, lat) -> str:
    """The fill colour of the area drawn under (lon, lat) on the map (Leaflet's canvas renderer keeps its layers)."""
    return page.evaluate("""(([lon, lat]) => {
        let found = "";
        cityopsDashboard.map.eachLayer(l => {
            if (l.feature && l.feature.properties && l.feature.properties.code && l.getBounds &&
                l.getBounds().contains([lat, lon]) && l.options) found = l.options.fillColor;
        });
        return found; })""", [lon, lat])


def test_the_areas_switch_from_load_to_score_with_legend_and_a_grids_card(cases, timeline, make_user, dashboard):
    page = dashboard(make_user("t_scores_leader", roles.LEADER))
    legend = page.locator("#dmap-area-legend")
    assert "较重" in legend.inner_text() and page.get_attribute("#dmap-map", "data-area-mode") == "load"
    page.check("input[name=areamode][value=score]")
    page.wait_for_selector("#dmap-map[data-areas-scored='2']")  # both districts registered cases today
    text = legend.inner_text()
    for label in ("A 优", "B 良", "E 很差", "样本不足", "本期无立案"):
        assert label in text
    assert _fill_at(page, 114.33, 30.55) == "#e16f24"  # 武昌区: 结案率 .6, 按期 .5, 监督举报率 .6 → 52, D
    # Down to 武昌区's first community, by the drill-down (the map and the scores follow).
    page.evaluate("cityopsDashboard.drill('420106001001')")
    page.wait_for_selector("#dmap-figures[data-region='420106001001']")
    page.wait_for_selector("#dmap-map[data-areas-scored='1']")
    page.uncheck("input[value=cases]")  # nothing over the grid but the grid
    assert _fill_at(page, *POINT_WUCHANG_A) == "#7fb800"  # B
    click_at(page, *POINT_WUCHANG_A)
    card = page.locator(".leaflet-popup .dmap-card")
    card.wait_for()
    body = card.inner_text()
    assert "评分 88.0 · B" in body and "排名 1 / 1" in body and "案件 3" in body
    assert "42010600100101" not in body  # its name, not its code
    page.screenshot(path=str(SHOTS / "desk-grid-scores.png"))
    # Back to load: the legend's load classes, the fill by load again.
    page.check("input[name=areamode][value=load]")
    page.wait_for_selector("#dmap-map[data-area-mode='load']")
    assert "较重" in legend.inner_text() and "B 良" not in legend.inner_text()


def test_no_score_switch_for_those_who_may_not_read_the_regions_evaluation(cases, make_user, dashboard):
    page = dashboard(make_user("t_scores_handler_b", roles.DEPT_HANDLER, org_units=["CG"]))
    assert page.locator("input[name=areamode]").count() == 0
    assert "较重" in page.inner_text("#dmap-area-legend")
