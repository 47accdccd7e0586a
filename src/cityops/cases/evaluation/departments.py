"""The departments' evaluation (专业部门: due, handled, on time, rework, overdue unhandled, extensions — charged
to whoever held the case when it was due) and the hotline's work orders per department (12345)."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.fields.json import KT

from cityops.accounts.models import OrgUnit
from cityops.cases.evaluation.common import (
    SUBJECT,
    TASK_SUBJECT,
    _bad,
    _entries,
    _ranked,
    _rounded,
    _unit_names,
    grade,
    period,
    rate,
    weights,
)
from cityops.cases.workflow import CASE_WORKFLOW, HANDLING_STATES
from cityops.core import workflow as wf
from cityops.core.models import TimelineEntry

# An overdue spell of a case in the department's hands ends with the first step that gives the case a new or a
# later deadline, or takes it out of the department's hands: taken from the workflow table — the transitions out
# of a handling state that restart or extend the clock (签收, 退回, 处置完毕, 上报上级, 批准延期). Steps that keep or
# pause the clock (申请延期, 挂账…) do not end it. (An extension granted after the deadline that still leaves the
# case late ends the spell too: the engine records no new lapse for it.)
ENDS_OVERDUE = tuple(sorted({
    t.action for t in CASE_WORKFLOW.transitions
    if set(t.sources) & set(HANDLING_STATES) and t.clock in (wf.CLOCK_RESTART, wf.CLOCK_EXTEND)
}))


# --- departments -------------------------------------------------------------------------------------------
# A unit is ranked among units of its kind: departments (专业部门), then street offices, then community committees.
UNIT_KIND_ORDER = {OrgUnit.Kind.DEPARTMENT: 0, OrgUnit.Kind.STREET: 1, OrgUnit.Kind.COMMUNITY: 2}


def _overdue_unhandled(hi: datetime) -> dict[str, int]:
    """超期待处置 (RULES.md §1): cases overdue and still unhandled at the end of the period `hi` — an overdue
    entry of the sweep from a handling state before `hi` whose spell no step in ENDS_OVERDUE ended before `hi` —
    per department that held the case at its deadline: the department stamped on the case's last entry before the
    lapse (the step that put the case in its hands or last acted on it; the holder cannot change without a step,
    and a step restarts the clock)."""
    case_entries = TimelineEntry.objects.filter(subject_type=SUBJECT, subject_id=OuterRef("subject_id"))
    ended = case_entries.filter(seq__gt=OuterRef("seq"), at__lt=hi, action__in=ENDS_OVERDUE)
    holder = (
        case_entries.filter(seq__lt=OuterRef("seq"), params__has_key="dept").exclude(params__dept="")
        .order_by("-seq").values(dept=KT("params__dept"))[:1]
    )
    rows = (
        TimelineEntry.objects.filter(subject_type=SUBJECT, action="overdue", from_state__in=HANDLING_STATES, at__lt=hi)
        .exclude(Exists(ended))
        .annotate(holder=Subquery(holder))
        .values("holder")
        .annotate(n=Count("subject_id", distinct=True))
    )
    return {row["holder"]: row["n"] for row in rows if row["holder"]}


def evaluate_departments(*, start: date, end: date) -> list[dict]:
    entries = _entries(start, end)
    counts = (
        entries.filter(action__in=("dispatch", "claim", "return", "handle", "close", "rework", "reopen", "extend_approve"))
        .values(dept=KT("params__dept"))
        .annotate(
            assigned=Count("id", filter=Q(action__in=("dispatch", "claim"))),
            returned=Count("id", filter=Q(action="return")),
            cases_handled=Count("subject_id", distinct=True, filter=Q(action="handle")),
            handled_late=Count("subject_id", distinct=True, filter=Q(action="handle", params__on_time=False)),
            closed=Count("subject_id", distinct=True, filter=Q(action="close")),
            reworked=Count("id", filter=Q(action__in=("rework", "reopen"))),
            extended=Count("id", filter=Q(action="extend_approve")),
        )
    )
    overdue = _overdue_unhandled(period(start, end)[1])
    # 一事联办: a sub-task is due from its assisting department (RULES.md §1), released ones are not.
    tasks = {
        row["dept"]: row
        for row in _entries(start, end, TASK_SUBJECT)
        .filter(action__in=("task_open", "task_release", "task_done"))
        .values(dept=KT("params__dept"))
        .annotate(
            opened=Count("id", filter=Q(action="task_open")),
            released=Count("id", filter=Q(action="task_release")),
            done=Count("id", filter=Q(action="task_done")),
            done_on_time=Count("id", filter=Q(action="task_done", params__on_time=True)),
        )
    }
    empty = {"assigned": 0, "returned": 0, "cases_handled": 0, "handled_late": 0, "closed": 0, "reworked": 0,
             "extended": 0}
    rows = {r["dept"]: dict(r) for r in counts if r["dept"]}
    for code in set(overdue) | set(tasks):
        if code:
            rows.setdefault(code, {"dept": code, **empty})
    units = _unit_names(rows)
    w = weights("department")
    out = []
    for code, r in rows.items():
        t = tasks.get(code, {})
        cases_due = max(0, r["assigned"] - r["returned"])
        cases_on_time = max(0, r["cases_handled"] - r["handled_late"])
        tasks_due = max(0, t.get("opened", 0) - t.get("released", 0))
        due = cases_due + tasks_due
        handled = r["cases_handled"] + t.get("done", 0)
        handled_on_time = cases_on_time + t.get("done_on_time", 0)
        late = overdue.get(code, 0)
        rates = {
            "handle_rate": rate(handled, due),
            "on_time_rate": rate(handled_on_time, due),
            "close_rate": rate(r["closed"], cases_due),
            "rework_rate": rate(r["reworked"], cases_due),
            "overdue_rate": rate(late, cases_due),
            "extension_rate": rate(r["extended"], cases_due),
        }
        score = None
        if due:
            score = round(
                _bad(rates["handle_rate"]) * w["handle"]
                + _bad(rates["on_time_rate"]) * w["on_time"]
                + (1 - _bad(rates["rework_rate"])) * w["rework"]
                + (1 - _bad(rates["overdue_rate"])) * w["overdue"]
                + (1 - _bad(rates["extension_rate"])) * w["extension"],
                2,
            )
        unit = units.get(code, {"name": code, "kind": OrgUnit.Kind.DEPARTMENT})
        out.append({
            "department": code, "name": unit["name"], "unit_kind": unit["kind"],
            "due": due, "cases_due": cases_due, "tasks_due": tasks_due,
            "assigned": r["assigned"], "returned": r["returned"],
            "handled": handled, "handled_on_time": handled_on_time,
            "cases_handled": r["cases_handled"], "cases_handled_on_time": cases_on_time,
            "tasks_done": t.get("done", 0), "tasks_done_on_time": t.get("done_on_time", 0),
            "closed": r["closed"], "reworked": r["reworked"], "overdue_unhandled": late, "extended": r["extended"],
            **_rounded(rates), "score": score, "grade": grade(score),
        })
    return _ranked(out, due_key="due", group=lambda r: UNIT_KIND_ORDER.get(r["unit_kind"], len(UNIT_KIND_ORDER)))


# --- hotline work orders (12345) ----------------------------------------------------------------------------
def evaluate_hotline(*, start: date, end: date) -> list[dict]:
    """Hotline indicators per department (RULES.md §1): 及时接收率 (accepted within the limit), 回退率 (returns
    per dispatch), 重办率 (rework/reopen per handled case), 按时办结率 (handled cases never late), 满意度
    (satisfied follow-ups per follow-up)."""
    rows = [
        r for r in _entries(start, end)
        .filter(params__source="hotline",
                action__in=("dispatch", "accept", "return", "handle", "rework", "reopen", "follow_up"))
        .values(dept=KT("params__dept"))
        .annotate(
            dispatched=Count("id", filter=Q(action="dispatch")),
            accepted=Count("id", filter=Q(action="accept")),
            accepted_on_time=Count("id", filter=Q(action="accept", params__on_time=True)),
            returned=Count("id", filter=Q(action="return")),
            handled=Count("subject_id", distinct=True, filter=Q(action="handle")),
            handled_late=Count("subject_id", distinct=True, filter=Q(action="handle", params__on_time=False)),
            redone=Count("id", filter=Q(action__in=("rework", "reopen"))),
            satisfied=Count("id", filter=Q(action="follow_up")),
            unsatisfied=Count("id", filter=Q(action="reopen")),
        )
        if r["dept"]
    ]
    units = _unit_names(r["dept"] for r in rows)
    out = []
    for r in rows:
        out.append({
            "department": r["dept"], "name": units.get(r["dept"], {}).get("name", r["dept"]),
            **{k: v for k, v in r.items() if k != "dept"},
            **_rounded({
                "timely_accept_rate": rate(r["accepted_on_time"], r["accepted"]),
                "return_rate": rate(r["returned"], r["dispatched"]),
                "redo_rate": rate(r["redone"], r["handled"]),
                "on_time_rate": rate(r["handled"] - r["handled_late"], r["handled"]),
                "satisfaction_rate": rate(r["satisfied"], r["satisfied"] + r["unsatisfied"]),
            }),
        })
    out.sort(key=lambda r: (r["name"], r["department"]))
    return out
