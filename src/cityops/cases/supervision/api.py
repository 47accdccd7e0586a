"""Supervision orders (督办单) under /api/v1/supervision/: issue one on a case or sub-task, read the orders in the
user's scope, the supervisors' queue and a unit's inbox, and one POST per action of the workflow (core.actions)."""

from __future__ import annotations

from datetime import datetime

from ninja import Query, Router

from cityops.cases import selectors as case_selectors
from cityops.cases.api import TimelineOut, api_response
from cityops.cases.models import SupervisionOrder
from cityops.cases.supervision import LEVEL_LABELS, IssueIn, selectors, services
from cityops.core import actions
from cityops.core.errors import InvalidInput, NotFound
from cityops.core.schemas import Day, Id, Schema
from cityops.core.timeline import timeline_for

router = Router(tags=["supervision"])


class OrderOut(Schema):
    id: int
    case: str
    task: int | None
    unit: str
    unit_name: str
    level: str
    level_label: str
    state: str
    state_label: str
    reason: str
    response_hours: float
    answer: str
    deadline_at: datetime | None
    traffic_light: str
    overdue: bool
    escalations: int
    issued_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    version: int


class IssueBody(IssueIn):
    case: str  # the case's code
    task: Id | None = None  # one of its sub-tasks, when the order is on the sub-task


def order_out(order: SupervisionOrder) -> dict:
    return {
        "id": order.pk, "case": order.case.code, "task": order.task_id, "unit": order.unit.code,
        "unit_name": order.unit.name, "level": order.level, "level_label": str(LEVEL_LABELS.get(order.level, "")),
        "state": order.state, "state_label": order.state_label(), "reason": order.reason,
        "response_hours": order.response_hours, "answer": order.answer, "deadline_at": order.deadline_at,
        "traffic_light": order.traffic_light(), "overdue": order.overdue, "escalations": order.escalations,
        "issued_at": order.issued_at, "answered_at": order.answered_at, "closed_at": order.closed_at,
        "version": order.version,
    }


def _load(request, order_id: int) -> SupervisionOrder:
    order = selectors.order_list(user=request.auth).filter(pk=order_id).first()
    if order is None:
        raise NotFound("督办单不存在", "No such supervision order", code="order_not_found")
    return order


def _answer(request, order: SupervisionOrder, status: int):
    fresh = SupervisionOrder.objects.select_related("case", "unit").get(pk=order.pk)
    return api_response(request, order_out(fresh), status=status, etag=actions.etag(fresh))


@router.post("/orders", response={201: OrderOut}, summary="下达督办单 / issue a supervision order")
def issue_order(request, body: IssueBody):
    case = case_selectors.case_get(user=request.auth, code=body.case)
    task = None
    if body.task is not None:
        task = case.tasks.filter(pk=body.task).first()
        if task is None:
            raise NotFound("协办任务不存在", "No such sub-task", code="task_not_found")
    order = services.supervision_issue(actor=request.auth, case=case, task=task, level=body.level, reason=body.reason,
                                       hours=body.hours)
    return _answer(request, order, 201)


class OrderFilters(Schema):
    state: str | None = None
    level: str | None = None
    case: str | None = None


@router.get("/orders", response=list[OrderOut], summary="督办单列表 / supervision orders")
def list_orders(request, filters: Query[OrderFilters]):
    qs = selectors.order_list(user=request.auth)
    if filters.state:
        qs = qs.filter(state__in=filters.state.split(","))
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.case:
        qs = qs.filter(case__code=filters.case)
    return [order_out(o) for o in qs[:200]]


@router.get("/queue", response=list[OrderOut], summary="督办队列 / the supervision queue")
def queue(request, level: str = ""):
    return [order_out(o) for o in selectors.supervision_queue(user=request.auth, level=level)[:200]]


@router.get("/inbox", response=list[OrderOut], summary="本单位待回复督办单 / orders my unit must answer")
def inbox(request):
    return [order_out(o) for o in selectors.unit_inbox(user=request.auth)[:200]]


@router.get("/received", summary="各部门收到的督办 / supervision received per department")
def received(request, from_date: Day = Query(..., alias="from"), to_date: Day = Query(..., alias="to")):  # noqa: B008
    selectors.require_queue_reader(request.auth)
    if to_date < from_date:
        raise InvalidInput("结束日期早于开始日期", "'to' is before 'from'", code="invalid_range")
    return {"from": from_date, "to": to_date, "departments": selectors.supervision_received(start=from_date, end=to_date)}


@router.get("/orders/{order_id}", response=OrderOut, summary="督办单 / one supervision order")
def get_order(request, order_id: Id):
    return order_out(_load(request, order_id))


@router.get("/orders/{order_id}/timeline", response=list[TimelineOut], summary="督办单时间线 / its timeline")
def get_order_timeline(request, order_id: Id):
    order = _load(request, order_id)
    return [{"seq": e.seq, "at": e.at, "actor": e.actor_name, "action": e.action, "from_state": e.from_state,
             "to_state": e.to_state, "note": e.note, "params": e.params} for e in timeline_for(order)]


actions.add_action_routes(router, SupervisionOrder, path="/orders/{order_id}", keys={"order_id": Id}, load=_load,
                          answer=_answer, response=OrderOut, name="supervision", skip=frozenset({"issue"}))
