"""The procedure of a social stability risk assessment (稳评) of a major administrative decision, as data
(RULES.md §3; 重大行政决策程序暂行条例 2019):

    proposed ─scope→ scoped ─identify_risks→ risks_identified ─open_consultation→ consultation
    consultation ─assess→ assessed ─submit_review→ legality_review ─decide→ decided ─publish→ published
    published ─start_monitoring→ monitoring ─post_evaluate→ closed      (implemented decisions)
    published ─close→ closed                                            (revised or not implemented)
    any state before the decision ─withdraw→ withdrawn

Floors, not deadlines: the public comment period is set when consultation opens and lasts at least 30 days
(`comment_period_too_short`), and cannot be closed before its end (`too_early`); the legality review lasts at least
7 working days (`too_early`). Deadlines: the consultation's end (calendar time) and the post-evaluation at the end
of the monitoring period. The consequence of the level is enforced on `decide`: high → only "do not implement";
medium → no plain "implement", and "revise" / "implement with measures" only once every medium or high risk has
a mitigation recorded.

Who: the assessing unit's staff (`assessor`) run the assessment; the proposing unit's lead (`decider`) decides
and its staff (`proposer`) publish or withdraw; admin may do any step. Leaders read everything and act on nothing.
This module is data and guards only; the writes are in services.py.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityops.core import calendar
from cityops.core import roles as r
from cityops.core import workflow as wf
from cityops.core.actions import NoteIn, ReasonIn
from cityops.core.errors import InvalidInput
from cityops.core.schemas import Day, Schema
from cityops.stability import conf

ASSESSOR = "assessor"  # staff of the assessing unit (per-object role, Decision.object_roles)
PROPOSER = "proposer"  # staff of the proposing unit
DECIDER = "decider"  # the proposing unit's lead (部门负责人): the decision organ's signature
UNIT_STAFF_ROLES = frozenset({r.DEPT_HANDLER, r.DEPT_LEAD, r.REGION_STAFF})
ADMIN = frozenset({r.ADMIN})

HIGH, MEDIUM, LOW = "high", "medium", "low"
LEVELS = {HIGH: _("高风险"), MEDIUM: _("中风险"), LOW: _("低风险")}

IMPLEMENT, WITH_MEASURES, REVISE, REJECT = "implement", "implement_with_measures", "revise", "do_not_implement"
OUTCOMES = {IMPLEMENT: _("实施"), WITH_MEASURES: _("采取措施后实施"), REVISE: _("调整决策方案"), REJECT: _("不实施")}
IMPLEMENTED = (IMPLEMENT, WITH_MEASURES)
# The consequence of the assessed level (RULES.md §3): which outcomes it leaves open.
ALLOWED_OUTCOMES = {HIGH: (REJECT,), MEDIUM: (WITH_MEASURES, REVISE, REJECT), LOW: tuple(OUTCOMES)}
NEEDS_MITIGATION = (WITH_MEASURES, REVISE)  # for a medium level: only once every medium/high risk is mitigated


def consultation_end(ends_on: date) -> datetime:
    """The public comment period runs to the end of its last day (local time)."""
    return datetime.combine(ends_on + timedelta(days=1), time.min, timezone.get_current_timezone())


def earliest_end(opened: datetime) -> date:
    """The first last day a comment period opened at `opened` may have: `COMMENT_DAYS` days later."""
    return timezone.localtime(opened).date() + timedelta(days=conf.get("COMMENT_DAYS"))


def legality_review_ends(started: datetime) -> datetime:
    return calendar.add_workdays(started, conf.get("LEGALITY_REVIEW_WD"))


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _text(params: dict, key: str) -> str:
    return str(params.get(key) or "").strip()


# --- guards (refuse only) ---------------------------------------------------------------------------------
def has_risks(decision, actor, params) -> None:
    if not decision.risks.exists():
        raise wf.refuse("风险清单为空：请先登记风险点", "The risk register is empty: record the risks first", code="no_risks")


@wf.input_guard
def comment_period_long_enough(decision, actor, params) -> None:
    """重大行政决策程序暂行条例 §14: public comment lasts at least 30 days."""
    ends_on = params.get("ends_on")
    if isinstance(ends_on, str):
        try:
            ends_on = date.fromisoformat(ends_on)
        except ValueError:
            ends_on = None
    if not isinstance(ends_on, date):
        raise InvalidInput("请填写征求意见截止日期", "The last day of the comment period is required", code="ends_on_required")
    first = earliest_end(timezone.now())
    if ends_on < first:
        days = conf.get("COMMENT_DAYS")
        raise InvalidInput(f"公开征求意见期不得少于 {days} 日：截止日期最早为 {first}",
                           f"Public comment lasts at least {days} days: the last day is {first} at the earliest",
                           code="comment_period_too_short")


def comment_period_over(decision, actor, params) -> None:
    if decision.consultation_ends_on is None:
        return
    end = consultation_end(decision.consultation_ends_on)
    if timezone.now() < end:
        raise wf.refuse(f"公开征求意见期至 {decision.consultation_ends_on} 结束，{_local(end)} 后方可结束征求意见",
                        f"The comment period runs to {decision.consultation_ends_on}: it can be closed from {_local(end)}",
                        code="too_early")


@wf.input_guard
def valid_level(decision, actor, params) -> None:
    if params.get("level") not in LEVELS:
        raise InvalidInput("风险等级应为 high（高）、medium（中）或 low（低）", "level must be high, medium or low",
                           code="unknown_level")


@wf.input_guard
def needs_summary(decision, actor, params) -> None:
    if not _text(params, "summary"):
        raise InvalidInput("请填写评估结论", "A summary is required", code="summary_required")


@wf.input_guard
def needs_scope(decision, actor, params) -> None:
    if not _text(params, "scope"):
        raise InvalidInput("请填写评估范围", "The scope of the assessment is required", code="scope_required")


@wf.input_guard
def needs_reason(decision, actor, params) -> None:
    if not _text(params, "reason"):
        raise InvalidInput("请填写原因", "A reason is required", code="reason_required")


def legality_review_over(decision, actor, params) -> None:
    """RULES.md §3: the legality review lasts at least 7 working days (a floor, counted on the working-day
    calendar: holidays do not count, make-up workdays do)."""
    end = legality_review_ends(decision.state_changed_at)
    if timezone.now() < end:
        days = conf.get("LEGALITY_REVIEW_WD")
        raise wf.refuse(f"合法性审查不少于 {days} 个工作日，{_local(end)} 后方可作出决策",
                        f"The legality review lasts at least {days} working days: a decision is possible from {_local(end)}",
                        code="too_early")


@wf.input_guard
def outcome_allowed(decision, actor, params) -> None:
    """The consequence of the level (RULES.md §3): high → do not implement; medium → revise and mitigate first."""
    outcome = params.get("outcome")
    if outcome not in OUTCOMES:
        raise InvalidInput("决策结果应为 implement、implement_with_measures、revise 或 do_not_implement",
                           "outcome must be implement, implement_with_measures, revise or do_not_implement",
                           code="unknown_outcome")
    if outcome not in ALLOWED_OUTCOMES.get(decision.level, ()):
        if decision.level == HIGH:
            raise wf.refuse("评估为高风险的决策只能作出不实施的决定", "A decision assessed as high risk may only be not implemented",
                            code="high_risk_not_implemented")
        raise wf.refuse("评估为中风险的决策须调整方案或采取措施后实施，不能直接实施",
                        "A decision assessed as medium risk must be revised or implemented with measures, not as it is",
                        code="medium_risk_needs_measures")
    if decision.level == MEDIUM and outcome in NEEDS_MITIGATION:
        missing = decision.unmitigated_risks()
        if missing:
            raise wf.refuse(f"尚有 {len(missing)} 个中、高风险点未落实防范化解措施",
                            f"{len(missing)} medium or high risks have no mitigation recorded yet",
                            code="mitigation_required", )


def implemented(decision, actor, params) -> None:
    if decision.outcome not in IMPLEMENTED:
        raise wf.refuse("决策未实施，无需跟踪监测", "The decision is not implemented: nothing to monitor", code="not_implemented")


def not_implemented(decision, actor, params) -> None:
    if decision.outcome in IMPLEMENTED:
        raise wf.refuse("决策已实施：须跟踪监测后进行后评估", "The decision is implemented: monitor it, then evaluate it",
                        code="implemented")


# --- what each action takes --------------------------------------------------------------------------------
class ScopeIn(Schema):
    scope: str


class ConsultationIn(Schema):
    ends_on: Day  # the last day of the public comment period
    note: str = ""


class AssessIn(Schema):
    level: str
    summary: str


class DecideIn(Schema):
    outcome: str
    note: str = ""


class SummaryIn(Schema):
    summary: str


def svc(name: str) -> wf.Hook:
    return wf.Hook(f"cityops.stability.services.{name}", obj_arg="decision")


def _consultation_hours(decision, params) -> float | None:
    """The consultation's deadline is the end of its period (calendar time from now)."""
    if decision.consultation_ends_on is None:
        return None
    return max(0.0, (consultation_end(decision.consultation_ends_on) - timezone.now()).total_seconds() / wf.HOUR)


def _monitoring_hours(decision, params) -> float:
    return conf.get("MONITORING_DAYS") * 24.0


T = wf.Transition
BEFORE_DECISION = ("proposed", "scoped", "risks_identified", "consultation", "assessed", "legality_review")
ASSESSING = frozenset({ASSESSOR}) | ADMIN
DECISION_WORKFLOW = wf.Workflow(
    name="stability_decision",
    initial="proposed",
    states={
        "proposed": wf.State("proposed", _("已提出")),
        "scoped": wf.State("scoped", _("已确定评估范围")),
        "risks_identified": wf.State("risks_identified", _("已识别风险")),
        "consultation": wf.State("consultation", _("征求意见中"), timer=wf.Timer(_consultation_hours, mode="calendar")),
        "assessed": wf.State("assessed", _("已评估定级")),
        "legality_review": wf.State("legality_review", _("合法性审查中")),
        "decided": wf.State("decided", _("已决策")),
        "published": wf.State("published", _("已公布")),
        "monitoring": wf.State("monitoring", _("跟踪监测中"), timer=wf.Timer(_monitoring_hours, mode="calendar")),
        "closed": wf.State("closed", _("已后评估"), terminal=True),
        "withdrawn": wf.State("withdrawn", _("已撤回"), terminal=True),
    },
    transitions=[
        T("scope", ("proposed",), "scoped", ASSESSING, _("确定评估范围"), guards=(needs_scope,), input=ScopeIn,
          hook=svc("decision_scope"), form="cityops.stability.forms.ScopeForm", style="primary"),
        T("identify_risks", ("scoped",), "risks_identified", ASSESSING, _("完成风险识别"), guards=(has_risks,),
          input=NoteIn, style="primary"),
        T("open_consultation", ("risks_identified",), "consultation", ASSESSING, _("公开征求意见"),
          guards=(has_risks, comment_period_long_enough), input=ConsultationIn, hook=svc("decision_open_consultation"),
          form="cityops.stability.forms.ConsultationForm", style="primary"),
        T("assess", ("consultation",), "assessed", ASSESSING, _("结束征求意见并评估定级"),
          guards=(comment_period_over, valid_level, needs_summary), input=AssessIn, hook=svc("decision_assess"),
          form="cityops.stability.forms.AssessForm", style="primary"),
        T("submit_review", ("assessed",), "legality_review", ASSESSING, _("提交合法性审查"), input=NoteIn,
          hook=svc("decision_submit_review"), style="primary"),
        T("decide", ("legality_review",), "decided", frozenset({DECIDER}) | ADMIN, _("作出决策"),
          guards=(legality_review_over, outcome_allowed), input=DecideIn, hook=svc("decision_decide"),
          form="cityops.stability.forms.DecideForm", style="primary"),
        T("publish", ("decided",), "published", frozenset({PROPOSER}) | ADMIN, _("公布决策"), input=NoteIn,
          hook=svc("decision_publish"), style="primary"),
        T("start_monitoring", ("published",), "monitoring", ASSESSING, _("开始跟踪监测"), guards=(implemented,),
          input=NoteIn, style="primary"),
        T("close", ("published",), "closed", ASSESSING, _("结束（未实施）"), guards=(not_implemented,), input=NoteIn),
        T("post_evaluate", ("monitoring",), "closed", ASSESSING, _("完成后评估"), guards=(needs_summary,),
          input=SummaryIn, hook=svc("decision_post_evaluate"), form="cityops.stability.forms.PostEvaluationForm",
          style="primary"),
        T("withdraw", BEFORE_DECISION, "withdrawn", frozenset({PROPOSER}) | ADMIN, _("撤回决策事项"),
          guards=(needs_reason,), input=ReasonIn, hook=svc("decision_withdraw"), style="danger"),
    ],
)

# Once consultation opened, a decision is public: its page, its approved comments, its outcome.
PUBLIC_STATES = ("consultation", "assessed", "legality_review", "decided", "published", "monitoring", "closed")
