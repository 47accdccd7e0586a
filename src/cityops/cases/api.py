"""Cases API under /api/v1/: intake, lists, one POST per action, evaluation, categories.
Handlers are thin: scope through selectors, writes through services; errors are CityopsError answers."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Literal

from django.http import HttpResponse
from ninja import File, Form, Query, Router
from ninja.files import UploadedFile
from ninja.responses import Status

from cityops.cases import evaluation, privacy, selectors, services
from cityops.cases.evaluation_export import evaluation_table, export_response
from cityops.cases.models import Case, CaseTask
from cityops.core import actions
from cityops.core.errors import InvalidInput, NotFound
from cityops.core.schemas import Day, Hours, Id, Moment, Offset, Schema, page_size

router = Router(tags=["cases"])

MAX_LIMIT = 200


# --- schemas ---------------------------------------------------------------------------------------------
class CaseIn(Schema):
    category: str
    description: str
    lon: float | str | None = None
    lat: float | str | None = None
    crs: str = "wgs84"
    address: str = ""
    source: str = ""
    reporter_phone: str = ""
    urgency: str = "normal"
    hotline_kind: str = ""
    anonymous: bool = False


class RegionRef(Schema):
    code: str
    name: str


class DuplicateOut(Schema):
    code: str
    state: str
    distance_m: float
    created_at: datetime


class CaseOut(Schema):
    code: str
    state: str
    state_label: str
    source: str
    category: str
    category_name: str
    description: str
    lon: float
    lat: float
    address: str
    regions: dict[str, RegionRef | None]
    urgency: str
    level: str  # community, street, district or city: where it is held or waits (cases.workflow "Four levels")
    dispatched_level: str  # the command centre that dispatched it: city, district, or ""
    resolved_level: str  # the level of the unit that handled it, "" until handled
    proposed_department: str | None
    lead_department: str | None
    deadline_at: datetime | None
    traffic_light: str
    overdue: bool
    reporter: str  # who reported, as the caller may see them: a login only for staff, "市民"/"匿名市民" for residents
    reporter_phone: str  # in full for intake and the reporter, masked for other staff, "" when anonymous
    counters: dict[str, int]
    result_note: str
    satisfaction: bool | None
    duplicate_of: str | None
    created_at: datetime
    version: int


class CaseCreatedOut(CaseOut):
    duplicates: list[DuplicateOut]
    proposed_handle_limit_wh: float


class CaseListOut(Schema):
    count: int
    offset: int
    limit: int
    items: list[CaseOut]


class TimelineOut(Schema):
    seq: int
    at: datetime
    actor: str
    action: str
    from_state: str
    to_state: str
    note: str
    params: dict


class TaskOut(Schema):
    id: int
    department: str
    state: str
    description: str
    deadline_at: datetime | None
    result_note: str


def case_out(case: Case, user, *, staff: dict[int, str] | None = None) -> dict:
    """The case as `user` may see it; `staff`: privacy.staff_names of the reporters of a whole page."""
    reporter = privacy.reporter_seen_by(case, user, staff=staff)
    return {
        "code": case.code,
        "state": case.state,
        "state_label": case.state_label(),
        "source": case.source,
        "category": case.category.code,
        "category_name": case.category.name_zh,
        "description": case.description,
        "lon": case.lon,
        "lat": case.lat,
        "address": case.address,
        "regions": case.region_names,
        "urgency": case.urgency,
        "level": case.level,
        "dispatched_level": case.dispatched_level,
        "resolved_level": case.resolved_level,
        "proposed_department": case.proposed_department.code if case.proposed_department_id else None,
        "lead_department": case.lead_department.code if case.lead_department_id else None,
        "deadline_at": case.deadline_at,
        "traffic_light": case.traffic_light(),
        "overdue": case.overdue,
        "reporter": reporter.label,
        "reporter_phone": reporter.phone,
        "counters": {
            "extensions": case.extensions, "returns": case.returns, "reworks": case.reworks,
            "suspensions": case.suspensions, "escalations": case.escalations, "merged_reports": case.merged_reports,
        },
        "result_note": case.result_note,
        "satisfaction": case.satisfaction,
        "duplicate_of": case.duplicate_of.code if case.duplicate_of_id else None,
        "created_at": case.created_at,
        "version": case.version,
    }


# --- intake and reads ------------------------------------------------------------------------------------
@router.post("/cases", response={200: CaseCreatedOut, 201: CaseCreatedOut}, summary="上报案件 / report a case")
def create_case(request, payload: CaseIn):
    key = request.headers.get("Idempotency-Key", "")
    intake = services.case_create(actor=request.auth, idempotency_key=key, **payload.dict())
    case = intake.case
    if not intake.created:
        case = selectors.case_for_answer(pk=case.pk)
    body = case_out(case, request.auth)
    body["duplicates"] = [
        {"code": d.code, "state": d.state, "distance_m": getattr(d, "distance_m", 0.0), "created_at": d.created_at}
        for d in intake.duplicates
    ]
    from cityops.cases.workflow import handle_limit_hours

    body["proposed_handle_limit_wh"] = round(handle_limit_hours(case), 2)
    return api_response(request, body, status=201 if intake.created else 200, etag=etag(case))


class ListFilters(Schema):
    state: str | None = None
    category: str | None = None
    district: str | None = None
    department: str | None = None
    level: str | None = None
    source: str | None = None
    overdue: bool | None = None
    q: str | None = None
    order: str | None = None
    queue: str | None = None  # "department": what the user's own units lead, by deadline
    to: Day | None = None
    offset: Offset = 0
    limit: page_size(MAX_LIMIT) = 50


@router.get("/cases", response=CaseListOut, summary="案件列表 / list cases")
def list_cases(request, filters: Query[ListFilters], from_date: Day | None = Query(None, alias="from")):  # noqa: B008
    data = filters.dict()
    data["from"] = from_date
    offset, size = data.pop("offset"), data.pop("limit")
    if data.pop("queue", None) == "department":
        qs = selectors.department_queue(user=request.auth, department=data.get("department"))
    else:
        qs = selectors.case_list(user=request.auth, filters=data)
    qs = qs.select_related("proposed_department", "duplicate_of")
    page = list(qs[offset : offset + size])
    staff = privacy.staff_names(c.reporter_id for c in page)
    return {
        "count": qs.count(),
        "offset": offset,
        "limit": size,
        "items": [case_out(c, request.auth, staff=staff) for c in page],
    }


@router.get("/cases/{code}", response=CaseOut, summary="案件详情 / one case")
def get_case(request, code: str, response: HttpResponse):
    case = selectors.case_get(user=request.auth, code=code)
    response["ETag"] = etag(case)  # send it back as If-Match with an action to act only on this version
    return case_out(case, request.auth)


@router.get("/cases/{code}/timeline", response=list[TimelineOut], summary="案件时间线 / timeline")
def get_timeline(request, code: str):
    case, entries = selectors.case_timeline(user=request.auth, code=code)
    return [
        {"seq": e.seq, "at": e.at, "actor": e.actor_name, "action": e.action, "from_state": e.from_state,
         "to_state": e.to_state, "note": e.note, "params": e.params}
        for e in privacy.timeline_seen_by(case, entries)
    ]


@router.get("/cases/{code}/tasks", response=list[TaskOut], summary="协办任务 / sub-tasks")
def get_tasks(request, code: str):
    case = selectors.case_get(user=request.auth, code=code)
    return [
        {"id": t.id, "department": t.department.code, "state": t.state, "description": t.description,
         "deadline_at": t.deadline_at, "result_note": t.result_note}
        for t in selectors.case_tasks(case=case)
    ]


@router.get("/categories", summary="案件类别 / categories")
def list_categories(request):
    return [
        {"code": c.code, "kind": c.kind, "major": c.major_zh, "name": c.name_zh, "name_en": c.name_en,
         "department": c.department_code, "handle_limit_wh": c.handle_limit_wh, "urgent": c.urgent}
        for c in selectors.category_list()
    ]


# --- one POST per action ---------------------------------------------------------------------------------
class DecisionItem(Schema):
    department: str
    text: str = ""
    limit_hours: Hours | None = None


class ConsultIn(Schema):
    meeting_at: Moment
    topic: str
    participants: list[str]
    decisions: list[DecisionItem] = []
    minutes: str = ""


def etag(case: Case) -> str:
    """The case's version as an entity tag: what If-Match sends back."""
    return actions.etag(case)


def api_response(request, body, *, status: int, etag: str | None = None) -> HttpResponse:
    """The answer rendered as it stands: validating what case_out just built against its response schema cost
    a third of the intake handler (1 ms). The schemas still document it, and tests hold the answers to them."""
    from cityops.api import api

    response = api.create_response(request, body, status=status)
    if etag:
        response["ETag"] = etag
    return response


# --- actions: one POST per workflow action, each with its input schema, from the workflow (core.actions) ----
def _case_answer(request, case: Case, status: int):
    case = selectors.case_for_answer(pk=case.pk)
    return api_response(request, case_out(case, request.auth), status=status, etag=etag(case))


def _task(request, code: str, task_id: int) -> CaseTask:
    case = selectors.case_get(user=request.auth, code=code)
    task = case.tasks.filter(pk=task_id).first()
    if task is None:
        raise NotFound("协办任务不存在", "No such sub-task", code="task_not_found")
    return task


def _task_answer(request, task: CaseTask, status: int):
    t = CaseTask.objects.select_related("department").get(pk=task.pk)
    body = {"id": t.id, "department": t.department.code, "state": t.state, "description": t.description,
            "deadline_at": t.deadline_at, "result_note": t.result_note}
    return api_response(request, body, status=status, etag=actions.etag(t))


actions.add_action_routes(
    router, Case, path="/cases/{code}", keys={"code": str}, response=CaseOut, answer=_case_answer,
    load=lambda request, code: selectors.case_get(user=request.auth, code=code),
)
actions.add_action_routes(
    router, CaseTask, path="/cases/{code}/tasks/{task_id}", keys={"code": str, "task_id": Id}, response=TaskOut,
    answer=_task_answer, load=_task, segment=lambda action: action.removeprefix("task_"), name="task",
)


@router.post("/cases/{code}/consult", response={201: dict}, summary="联办会商 / joint consultation")
def act_consult(request, code: str, body: ConsultIn):
    case = selectors.case_get(user=request.auth, code=code)
    meeting = services.consultation_record(
        case=case, actor=request.auth, meeting_at=body.meeting_at, topic=body.topic, participants=body.participants,
        decisions=[d.dict() for d in body.decisions], minutes=body.minutes,
    )
    return Status(201, {"id": meeting.pk, "tasks": list(meeting.tasks.values_list("id", flat=True))})


@router.post("/cases/{code}/photos", response={201: dict}, summary="上传照片 / add a photo")
def add_photo(request, code: str, file: File[UploadedFile], kind: Form[str] = "report"):
    case = selectors.case_get(user=request.auth, code=code)
    photo = services.case_photo_add(case=case, actor=request.auth, data=file.read(), filename=file.name or "", kind=kind)
    return Status(201, {"id": photo.pk, "url": photo.public.url, "content_type": photo.content_type, "size": photo.size})


# --- evaluation ------------------------------------------------------------------------------------------
@router.get("/evaluation/{kind}", summary="综合评价 / evaluation")
def get_evaluation(
    request, kind: str, from_date: Day = Query(..., alias="from"), to_date: Day = Query(..., alias="to"),  # noqa: B008
    level: str = "district", format: Literal["json", "csv", "xlsx"] = "json",
):
    if to_date < from_date:
        raise InvalidInput("结束日期早于开始日期", "'to' is before 'from'", code="invalid_range")
    rows = selectors.evaluation_rows(user=request.auth, kind=kind, start=from_date, end=to_date, level=level)
    if format in ("csv", "xlsx"):  # the page's table: its columns and headings, rates as percentages, a title row
        table = evaluation_table(kind, rows, start=from_date, end=to_date)
        return export_response(table, format, filename=f"evaluation-{kind}-{from_date}-{to_date}")
    columns = [{"key": c.key, "label": str(c.label), "format": c.fmt} for c in evaluation.EVALUATIONS[kind].columns]
    return {"kind": kind, "from": from_date, "to": to_date, "columns": columns, "rows": rows}


@router.get("/levels/resolution", summary="属地解决率 / cases resolved per level")
def get_level_resolution(
    request, from_date: Day = Query(..., alias="from"), to_date: Day = Query(..., alias="to"),  # noqa: B008
    region: str = Query("", max_length=20, pattern=r"^\d*$"),  # noqa: B008
):
    """Cases closed in the period by the level that resolved them (community, street, district, city), each level's
    share and its 属地解决率 (resolved at that level or below); `region`: a region code prefix."""
    rows = selectors.level_resolution(user=request.auth, start=from_date, end=to_date, region=region)
    return {"from": from_date, "to": to_date, "region": region, "rows": rows}


# --- bench only (bench/intake.py): the same server's cost of a bare one-row ninja insert ------------------
# What the issue measures against: a ninja endpoint taking a small JSON body through a Schema, inserting it as
# one row (one statement, no ORM compilation) and answering through a response Schema.
if os.environ.get("CITYOPS_BENCH") == "1":
    from django.db import connection

    class BareIn(Schema):
        description: str

    class BareOut(Schema):
        id: int

    def _bare_insert(request, payload: BareIn):
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_bare (body, at) VALUES (%s, CURRENT_TIMESTAMP) RETURNING id",
                           [payload.description[:200]])
            return Status(201, {"id": cursor.fetchone()[0]})

    router.post("/cases/_bench/bare", auth=None, response={201: BareOut}, include_in_schema=False)(_bare_insert)

    def _bare_insert_auth(request, payload: BareIn):
        return _bare_insert(request, payload)

    router.post("/cases/_bench/bare_auth", response={201: BareOut}, include_in_schema=False)(_bare_insert_auth)
