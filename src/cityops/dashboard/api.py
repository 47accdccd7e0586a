"""The dashboard API, mounted at /api/v1/dashboard/: for now the early warnings — the list and one warning with its
cases (scoped by the user), and one POST per action (acknowledge, close). The map, KPIs and briefings join here."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import get_language
from ninja import Router

from cityops.core import actions
from cityops.core.schemas import Id, Schema, page_size
from cityops.dashboard import selectors
from cityops.dashboard.models import EarlyWarning

router = Router(tags=["dashboard"])


class WarningCaseOut(Schema):
    code: str
    created_at: datetime
    place: str
    url: str


class WarningOut(Schema):
    id: int
    category: str
    category_name: str
    region_code: str
    region_level: str
    region_name: str
    state: str
    state_label: str
    started_at: datetime
    detected_at: datetime
    closed_at: datetime | None
    window_minutes: int
    observed: int
    expected: float
    score: float
    case_count: int
    url: str
    version: int


class WarningDetailOut(WarningOut):
    cases: list[WarningCaseOut]


def _warning_out(w: EarlyWarning) -> dict:
    english = (get_language() or "").startswith("en")
    return {
        "id": w.pk, "category": w.category.code,
        "category_name": w.category.name_en if english and w.category.name_en else w.category.name_zh,
        "region_code": w.region_code, "region_level": w.region_level, "region_name": w.region_name,
        "state": w.state, "state_label": w.state_label(), "started_at": w.started_at, "detected_at": w.detected_at,
        "closed_at": w.closed_at, "window_minutes": w.window_minutes, "observed": w.observed, "expected": w.expected,
        "score": w.score, "case_count": getattr(w, "case_count", None) or w.cases.count(),
        "url": f"/dashboard/warnings/{w.pk}/", "version": w.version,
    }


def _detail_out(w: EarlyWarning) -> dict:
    cases = [{"code": c.code, "created_at": c.created_at, "place": c.address or c.community_name or c.street_name,
              "url": f"/cases/{c.code}/"} for c in selectors.warning_cases(warning=w)]
    return {**_warning_out(w), "cases": cases}


@router.get("/warnings", response=list[WarningOut], summary="异常预警列表 / early warnings")
def list_warnings(request, state: str = "", open: bool = False, limit: page_size(1000) = 200):  # noqa: A002
    """Newest first; `open=true` for the open and acknowledged ones. Scoped: a district sees its own."""
    qs = selectors.warning_list(user=request.auth, state=state, open_only=open)
    return [_warning_out(w) for w in qs[:limit]]


@router.get("/warnings/{warning_id}", response=WarningDetailOut, summary="预警详情 / one warning and its cases")
def get_warning(request, warning_id: Id):
    return _detail_out(selectors.warning_get(user=request.auth, pk=warning_id))


def _answer(request, warning, status: int):
    from cityops.api import api

    fresh = selectors.warning_get(user=request.auth, pk=warning.pk)
    return api.create_response(request, _detail_out(fresh), status=status)


# POST /warnings/{id}/acknowledge and /close, from the workflow (core.actions): roles, If-Match, Idempotency-Key.
actions.add_action_routes(
    router, EarlyWarning, path="/warnings/{warning_id}", keys={"warning_id": Id}, response=WarningDetailOut,
    answer=_answer, load=lambda request, warning_id: selectors.warning_get(user=request.auth, pk=warning_id),
    name="warning",
)

from cityops.dashboard import replay  # noqa: E402 - the replay of a day (dashboard-live)

router.add_router("/replay", replay.router)

from cityops.dashboard import map_api  # noqa: E402  (the map, its layers, drill-down and figures: dashboard-map)

router.add_router("/map", map_api.router)

from cityops.dashboard import briefing_api  # noqa: E402  (scheduled briefings: dashboard-briefings)

router.add_router("/briefings", briefing_api.router)
