"""The drill-down's areas coloured by score (issue 15: "grids coloured by load or by score").

A region's score for a period is the cases evaluation's (cases/evaluation/regions.py: `evaluate_regions` counts a
level's indicators from the timeline, `score_regions` scores, grades and ranks them) — not computed again here. The
evaluation of a whole level for a period is one set of grouped queries over the period's timeline entries; it is
the same for everyone, so it is kept once per level and period for CITYOPS_DASHBOARD_CACHE_S seconds (as
aggregation.cached keeps the map's counts) and each user gets the rows of the children they are shown, ranked
among themselves (a community's grids among the community's grids).

Who sees scores: whoever may open the regions' evaluation (leader, supervisor, admin: cases.selectors
.evaluation_kinds), and the region-bound staff (a district's or a street's people, the grid workers) for the
regions of their own area — which is all the drill-down ever shows them (aggregation.clean_region).
"""

from __future__ import annotations

from datetime import date

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from cityops.cases import evaluation
from cityops.core import roles
from cityops.core.errors import Forbidden
from cityops.dashboard import aggregation

# Colour classes: the evaluation's grades (A ≥ 90 … E < 40), then the rows the evaluation does not grade.
GRADE_COLORS = {"A": "#1a7f37", "B": "#7fb800", "C": "#f2c94c", "D": "#e16f24", "E": "#b3261e"}
INSUFFICIENT_COLOR = "#c9d1d9"  # fewer registered cases than the evaluation's minimum: no grade, no rank
NONE_COLOR = "#f6f8fa"  # no registered case in the period: no score
LOAD_COLORS = ("#f2c94c", "#e16f24", "#b3261e")  # the load's thirds of the busiest area shown (map.js)


def may_see(user) -> bool:
    from cityops.cases.selectors import evaluation_kinds

    if not user.is_authenticated:
        return False
    return "regions" in evaluation_kinds(user=user) or bool(user.role_codes & roles.REGION_BOUND_ROLES)


def score_legend() -> list[list[str]]:
    return ([[GRADE_COLORS["A"], str(_("A 优（≥ 90）"))], [GRADE_COLORS["B"], str(_("B 良（≥ 75）"))],
             [GRADE_COLORS["C"], str(_("C 中（≥ 60）"))], [GRADE_COLORS["D"], str(_("D 差（≥ 40）"))],
             [GRADE_COLORS["E"], str(_("E 很差（< 40）"))], [INSUFFICIENT_COLOR, str(evaluation.INSUFFICIENT)],
             [NONE_COLOR, str(_("本期无立案"))]])


def load_legend() -> list[list[str]]:
    return [[LOAD_COLORS[0], str(_("较轻（不到最多者的 1/3）"))], [LOAD_COLORS[1], str(_("中等（1/3～2/3）"))],
            [LOAD_COLORS[2], str(_("较重（2/3 以上）"))]]


def level_rows(*, level: str, start: date, end: date) -> dict[str, dict]:
    """The regions' evaluation of one level for the period, by code — computed once per CITYOPS_DASHBOARD_CACHE_S
    for everyone (the rows hold no one's personal data)."""
    seconds = aggregation.cache_seconds()
    key = f"dashboard:region_eval:{level}:{start.isoformat()}:{end.isoformat()}"
    rows = cache.get(key) if seconds > 0 else None
    if rows is None:
        rows = {row["region"]: row for row in evaluation.evaluate_regions(start=start, end=end, level=level)}
        if seconds > 0:
            cache.set(key, rows, seconds)
    return rows


def _children(user, region: str):
    from cityops.geo.models import Region

    roots = aggregation.area_roots(user)
    if region:
        return list(Region.objects.filter(parent__code=region).order_by("code"))
    if roots == [""]:
        return list(Region.objects.filter(level="district").order_by("code"))
    return list(Region.objects.filter(code__in=roots).order_by("code"))


def children_scores(*, user, region: str, start: date, end: date) -> dict:
    """The score of each child of `region` (the drill-down's children, as aggregation.area_view lists them) for
    the period: {code, name, score, grade, rank, ranked (how many ranked), registered, sample_ok, color}."""
    if not may_see(user):
        raise Forbidden("无权查看区域评分", "You may not read the regions' scores", code="role_not_allowed")
    children = _children(user, region)
    level = children[0].level if children else ""
    found = level_rows(level=level, start=start, end=end) if level in evaluation.LEVEL_LENGTH else {}
    rows = [dict(found[c.code]) for c in children if c.code in found]  # copies: the cached rows stay as they are
    ranked = evaluation.score_regions(rows)
    by_code = {row["region"]: row for row in ranked}
    n_ranked = sum(1 for row in ranked if row["rank"] is not None)
    out = []
    for c in children:
        row = by_code.get(c.code)
        if row is None or row["score"] is None:
            out.append({"code": c.code, "name": c.name, "score": None, "grade": "", "rank": None,
                        "ranked": n_ranked, "registered": 0, "sample_ok": False, "color": NONE_COLOR})
            continue
        color = GRADE_COLORS.get(row["grade"], INSUFFICIENT_COLOR) if row["sample_ok"] else INSUFFICIENT_COLOR
        out.append({"code": c.code, "name": c.name, "score": row["score"], "grade": row["grade"],
                    "rank": row["rank"], "ranked": n_ranked, "registered": row["registered"],
                    "sample_ok": row["sample_ok"], "close_rate": row["close_rate"],
                    "close_on_time_rate": row["close_on_time_rate"], "color": color})
    return {"region": region, "level": level, "from": start.isoformat(), "to": end.isoformat(),
            "min_due": evaluation.min_due(), "legend": score_legend(), "children": out}
