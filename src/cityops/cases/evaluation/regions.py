"""The regions' evaluation (区域: registered, public reports, closed, on time, resolved locally, per district,
street, community or grid) and its score (score_regions), which the dashboard's areas are coloured by too."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.fields.json import KT

from cityops.cases.evaluation.common import (
    LEVEL_LENGTH,
    _bad,
    _by_region,
    _entries,
    _merged_reports,
    _ranked,
    _rounded,
    grade,
    rate,
    weights,
)
from cityops.cases.models import Case


# --- regions -----------------------------------------------------------------------------------------------
def evaluate_regions(*, start: date, end: date, level: str = "district") -> list[dict]:
    from cityops.core.errors import InvalidInput

    if level not in LEVEL_LENGTH:
        raise InvalidInput("层级应为 district/street/community/grid", "level must be district, street, community or grid",
                           code="invalid_level")
    n = LEVEL_LENGTH[level]
    entries = _entries(start, end)
    registered = _by_region(entries.filter(action="register"), n, registered=Count("id"),
                            public=Count("id", filter=Q(params__public=True)))
    closed = _by_region(entries.filter(action="close"), n, closed=Count("id"),
                        closed_on_time=Count("id", filter=Q(params__case_on_time=True)))
    local = _by_region(entries.filter(action="handle", params__level__in=["community", "street"]), n,
                       resolved_locally=Count("id"))
    self_handled = _by_region(entries.filter(action="self_handle"), n, self_handled=Count("id"))
    # Merged reports are supervision reports of the kept case (RULES.md §1 Duplicates): counted in its region.
    kept_region = Case.objects.filter(code=OuterRef("into")).values("region_code")[:1]
    merged = _by_region(
        _merged_reports(entries).annotate(into=KT("params__into")), n, region=Subquery(kept_region),
        merged=Count("id"), merged_public=Count("id", filter=Q(params__source__in=list(Case.PUBLIC_SOURCES))),
    )
    codes = {c for c in set(registered) | set(closed) | set(local) | set(self_handled) | set(merged) if c and len(c) == n}
    try:
        from cityops.geo.models import Region

        found = {code: (name, parent) for code, name, parent in
                 Region.objects.filter(code__in=list(codes)).values_list("code", "name", "parent__name")}
    except Exception:  # geography not loaded: codes only
        found = {}
    out = []
    for code in codes:
        reg = registered.get(code, {}).get("registered", 0)
        pub = registered.get(code, {}).get("public", 0) + merged.get(code, {}).get("merged_public", 0)
        cl = closed.get(code, {}).get("closed", 0)
        cl_on_time = closed.get(code, {}).get("closed_on_time", 0)
        name, parent = found.get(code, (code, ""))
        out.append({
            "region": code, "name": name, "parent": parent or "", "level": level, "registered": reg,
            "public_reports": pub, "merged_reports": merged.get(code, {}).get("merged", 0),
            "closed": cl, "closed_on_time": cl_on_time,
            "resolved_locally": local.get(code, {}).get("resolved_locally", 0),
            "self_handled": self_handled.get(code, {}).get("self_handled", 0),
            **_rounded({"public_report_rate": rate(pub, reg), "close_rate": rate(cl, reg),
                        "close_on_time_rate": rate(cl_on_time, reg)}),
        })
    out.sort(key=lambda r: r["region"])
    return out


def score_regions(rows: list[dict]) -> list[dict]:
    """A score, grade and rank for rows of `evaluate_regions` (one level), ranked among the rows given (the
    dashboard ranks a region's children among themselves). RULES.md §1 names the region's indicators but no
    score: this one weighs them as the other scores do (weights("region"), CITYOPS_CASE_EVAL_WEIGHTS["region"]) —
    结案率 × 40 + 按期结案率 × 40 + (1 − 监督举报率) × 20; a region with no registered case has no score, one with
    fewer than min_due() registered cases no grade and no rank (样本不足). Returns the rows ranked, best first."""
    w = weights("region")
    for row in rows:
        score = None
        if row["registered"]:
            score = round(_bad(row["close_rate"]) * w["close"] + _bad(row["close_on_time_rate"]) * w["close_on_time"]
                          + (1 - _bad(row["public_report_rate"])) * w["public_report"], 2)
        row["score"], row["grade"] = score, grade(score)
    return _ranked(rows, due_key="registered")


def evaluate_scored_regions(*, start: date, end: date, level: str = "district") -> list[dict]:
    """The regions' evaluation with `score_regions`' score, grade and rank, ranked among all regions of the level:
    the evaluation page and its exports (the dashboard ranks a region's children among themselves instead)."""
    return score_regions(evaluate_regions(start=start, end=end, level=level))
