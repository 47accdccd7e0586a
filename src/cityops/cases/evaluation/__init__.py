"""综合评价 (RULES.md §1 "Evaluation", GB/T 30428.4-style): indicators and scores for a date range, counted
from the timeline (core_timelineentry, subject_type "cases.case") with aggregate SQL — one grouped query per
indicator family, never a loop over cases.

Attribution (RULES.md §1): every step is charged to whoever held it when it was due. The engine stamps the
department holding the case (`dept`) and whether the step was on time on each transition's entry, so a count
grouped by the stamp charges the holder of the time, not the case's department now.

What each count is (entries whose `at` lies in the range):
- department X: due = dispatch/claim entries to X − return entries by X, plus the sub-tasks (协办) opened for X
  − those released; handled = cases with a handle entry of X + sub-tasks X finished (on time: no handle entry of
  the case in the range was late / the sub-task was done in its limit); closed = cases closed; rework = rework +
  reopen entries of X; extended = extend_approve entries of X; overdue unhandled (超期待处置) = cases that were
  overdue and still unhandled at the end of the period, charged to the department that held the case at its
  deadline (`_overdue_unhandled`). 处置率 and 按期处置率 count sub-tasks; the other rates are over the cases X led.
- dispatcher: dispatch entries by the actor (on time: params.on_time); returned = return entries whose
  params.dispatched_by is the actor.
- shift lead: register entries by the actor; voided = void_approve entries whose params.registered_by is the
  actor; close entries by the actor.
- field worker: report entries with source=field by the actor; valid = register entries whose reporter_id is
  the actor + self_handle entries + their reports merged into another case before registration (a duplicate of
  a real problem is a valid report); checks (核实) and verifications (核查/返工) by the actor; missed = registered
  public reports inside the worker's regions / all registered inside them.
- region: registered, public registered, closed, closed on time, resolved at community/street level; reports
  merged into a case of the region count as supervision reports of that (kept) case (RULES.md §1 Duplicates).

Rankings list only holders of the role (a unit: departments among departments, streets among streets,
communities among communities); a unit or person with fewer than MIN_DUE due items (settings.CITYOPS_CASE_EVAL_MIN_DUE,
default 5) gets no grade and no rank (样本不足). A rate whose denominator is 0 is reported as null and scores as "nothing
wrong" (1 for a good-direction rate, 0 for a bad-direction one).

The package: `common` (periods, rates, grades, ranking, weights), `departments` (departments and the hotline's work
orders), `people` (dispatchers, shift leads, field workers), `regions` (regions and their score); here the
registry of the evaluations that the pages, the exports and the API show (EVALUATIONS, evaluate).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext_lazy as _

from cityops.cases.evaluation.common import (
    DEFAULT_WEIGHTS,
    INSUFFICIENT,
    LEVEL_LENGTH,
    MIN_DUE,
    grade,
    min_due,
    period,
    rate,
    weights,
)
from cityops.cases.evaluation.departments import evaluate_departments, evaluate_hotline
from cityops.cases.evaluation.people import evaluate_dispatchers, evaluate_field_workers, evaluate_shift_leads
from cityops.cases.evaluation.regions import evaluate_regions, evaluate_scored_regions, score_regions
from cityops.cases.levels import local_rate_by_region
from cityops.cases.supervision.selectors import received_by_department


# --- the evaluations, for the API and the web pages alike ----------------------------------------------------
@dataclass(frozen=True)
class Column:
    """One column of an evaluation's table (the page, the CSV and the Excel export show the same columns):
    the row key it shows, its heading (a Chinese msgid, English on the English UI), its format ("rate" is a
    percentage, "kind" a unit kind's label, "" as it is). A column whose value the evaluation's own function
    does not compute brings `values(start=, end=)` → {row id: value} (row id: Evaluation.row_id); rows it does not
    name show 0."""

    key: str
    label: object
    fmt: str = ""
    values: Callable[..., dict] | None = None


@dataclass(frozen=True)
class Evaluation:
    """One evaluation: its name in the UI, the function computing it, the columns its table shows (a list: add a
    Column to show one more), what its rows are (departments, named staff by `user_id`, or regions: who may read
    them, cases.selectors.evaluation_rows), whether its rows carry a score, a grade and a rank, whether it takes a
    region level."""

    label: object
    compute: Callable[..., list[dict]]
    columns: list[Column] = field(default_factory=list)
    rows_are: str = "departments"  # DEPARTMENTS | STAFF | REGIONS
    scored: bool = False
    by_level: bool = False

    @property
    def row_id(self) -> str:
        return {DEPARTMENTS: "department", STAFF: "user_id", REGIONS: "region"}[self.rows_are]


DEPARTMENTS, STAFF, REGIONS = "departments", "staff", "regions"
C = Column

EVALUATIONS: dict[str, Evaluation] = {
    "departments": Evaluation(_("专业部门"), evaluate_departments, [
        C("name", _("单位")), C("unit_kind", _("类型"), "kind"), C("due", _("应处置")), C("tasks_due", _("其中协办")),
        C("handled", _("已处置")), C("handle_rate", _("处置率"), "rate"), C("on_time_rate", _("按期处置率"), "rate"),
        C("close_rate", _("结案率"), "rate"), C("rework_rate", _("返工率"), "rate"),
        C("overdue_unhandled", _("超期待处置")), C("overdue_rate", _("超期待处置率"), "rate"),
        C("extension_rate", _("延期率"), "rate"), C("supervision_received", _("收到督办"), values=received_by_department),
    ], DEPARTMENTS, scored=True),
    "dispatchers": Evaluation(_("派遣员"), evaluate_dispatchers, [
        C("name", _("派遣员")), C("dispatched", _("派遣数")), C("returned", _("被退回")),
        C("on_time_rate", _("按时派遣率"), "rate"), C("accuracy_rate", _("准确派遣率"), "rate"),
    ], STAFF, scored=True),
    "shift_leads": Evaluation(_("值班长"), evaluate_shift_leads, [
        C("name", _("值班长")), C("registered", _("立案数")), C("voided", _("作废数")), C("closed", _("结案数")),
        C("register_on_time_rate", _("按时立案率"), "rate"), C("register_accuracy_rate", _("准确立案率"), "rate"),
        C("close_on_time_rate", _("按时结案率"), "rate"),
    ], STAFF, scored=True),
    "field_workers": Evaluation(_("网格员"), evaluate_field_workers, [
        C("name", _("网格员")), C("reports", _("上报数")), C("valid_reports", _("有效上报")),
        C("valid_rate", _("有效上报率"), "rate"), C("check_on_time_rate", _("按时核实率"), "rate"),
        C("verify_on_time_rate", _("按时核查率"), "rate"), C("missed_rate", _("漏报率"), "rate"),
    ], STAFF, scored=True),
    "regions": Evaluation(_("区域"), evaluate_scored_regions, [
        C("name", _("区域")), C("parent", _("上级区域")), C("registered", _("立案数")),
        C("public_reports", _("公众举报")), C("merged_reports", _("合并举报")),
        C("public_report_rate", _("监督举报率"), "rate"),
        C("close_rate", _("结案率"), "rate"), C("close_on_time_rate", _("按期结案率"), "rate"),
        C("resolved_locally", _("街道社区办结")), C("self_handled", _("自处理")),
        # Four levels (issue 12 §3): closed cases resolved at their street or community / closed (cases.levels).
        C("local_rate", _("属地解决率"), "rate", values=local_rate_by_region),
    ], REGIONS, scored=True, by_level=True),
    "hotline": Evaluation(_("12345 热线"), evaluate_hotline, [
        C("name", _("部门")), C("dispatched", _("派单数")), C("handled", _("办结数")),
        C("timely_accept_rate", _("及时接收率"), "rate"), C("return_rate", _("回退率"), "rate"),
        C("redo_rate", _("重办率"), "rate"), C("on_time_rate", _("按时办结率"), "rate"),
        C("satisfaction_rate", _("满意度"), "rate"),
    ], DEPARTMENTS),
}


def evaluate(kind: str, *, start: date, end: date, level: str = "district") -> list[dict]:
    """The rows of evaluation `kind` (a key of EVALUATIONS) for the date range; `level` for region evaluations.
    Columns that bring their own values are filled in here."""
    chosen = EVALUATIONS[kind]
    rows = chosen.compute(start=start, end=end, **({"level": level} if chosen.by_level else {}))
    for column in chosen.columns:
        if column.values is not None:
            values = column.values(start=start, end=end)
            for row in rows:
                row[column.key] = values.get(row[chosen.row_id], 0)
    return rows


__all__ = [
    "DEFAULT_WEIGHTS", "DEPARTMENTS", "EVALUATIONS", "INSUFFICIENT", "LEVEL_LENGTH", "MIN_DUE", "REGIONS", "STAFF",
    "Column", "Evaluation", "evaluate", "evaluate_departments", "evaluate_dispatchers", "evaluate_field_workers",
    "evaluate_hotline", "evaluate_regions", "evaluate_scored_regions", "evaluate_shift_leads", "grade", "min_due",
    "period", "rate", "score_regions", "weights",
]
