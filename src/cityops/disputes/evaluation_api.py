"""The evaluation of dispute resolution in the API: GET /api/v1/disputes/evaluation?from=…&to=… (evaluation.py)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from ninja import Query, Router

from cityops.cases.evaluation_export import XLSX_TYPE, export_response
from cityops.core import roles
from cityops.core.schemas import Day, Schema
from cityops.disputes import evaluation
from cityops.disputes.evaluation_export import evaluation_tables

router = Router(tags=["disputes"])


class Row(Schema):
    """One centre, committee or mediator. Rates are shares (0–1), null where nothing was counted."""

    key: str  # the centre's or committee's code, the mediator's user id
    name: str
    finished: int
    agreements: int
    on_time: int
    confirmed: int
    performed: int
    outcome_known: int
    local: int
    escalations: int
    success_rate: float | None  # 调解成功率
    on_time_rate: float | None  # 按期调解率
    confirmation_rate: float | None  # 司法确认率
    performance_rate: float | None  # 履行率
    local_rate: float | None  # 属地化解率


class CampaignRow(Schema):
    key: str
    name: str
    starts_on: date
    ends_on: date
    visits: int
    households_visited: int
    households: int | None
    households_estimated: bool
    coverage: float | None
    disputes_found: int
    cases_found: int
    yield_per_100: float | None


class EvaluationOut(Schema):
    start: date
    end: date
    centres: list[Row]
    committees: list[Row]
    mediators: list[Row]
    campaigns: list[CampaignRow]


# format=csv|xlsx answers a file: the OpenAPI document says so beside the JSON (its clients and the schema's fuzz).
FILES = {200: {"content": {"text/csv": {"schema": {"type": "string"}},
                             XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}}}


@router.get("", response=EvaluationOut, summary="调解评价 / mediation evaluation", openapi_extra={"responses": FILES})
def get_evaluation(request, from_date: Day = Query(..., alias="from"), to_date: Day = Query(..., alias="to"),  # noqa: B008
                   format: Literal["json", "csv", "xlsx"] = "json"):
    """Per centre, committee and mediator (调解成功率, 按期调解率, 司法确认率, 履行率, escalations, 属地化解率) and per
    screening campaign (coverage, yield), for the days from `from` to `to` inclusive, in the caller's scope.
    `format=csv` or `xlsx`: the page's tables as a file (rates as percentages, names, a title row per table)."""
    rows = evaluation.evaluate(user=request.auth, start=from_date, end=to_date)
    if format in ("csv", "xlsx"):
        campaigns = request.auth.has_role(roles.LEADER, roles.ADMIN, roles.CENTRE_STAFF)
        tables = evaluation_tables(rows, start=from_date, end=to_date, campaigns=campaigns)
        return export_response([table for _key, table in tables], format,
                               filename=f"dispute-evaluation-{from_date}-{to_date}")
    return {"start": from_date, "end": to_date, **rows}
