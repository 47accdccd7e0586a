"""Names of states and actions in the page's language, traffic lights and small formats for case pages.

The Chinese names come from the workflow table (cases/workflow.py) and are translated at render time; the
gettext_noop list below only lets `makemessages` find them for the English catalogue."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as N

from cityops.cases.workflow import CASE_WORKFLOW, TASK_WORKFLOW

register = template.Library()

_STATES = {code: str(st.label) for wf in (CASE_WORKFLOW, TASK_WORKFLOW) for code, st in wf.states.items()}
_ACTIONS = {t.action: str(t.label) for wf in (CASE_WORKFLOW, TASK_WORKFLOW) for t in wf.transitions}
# Timeline entries that are not transitions.
_ACTIONS.update({
    "report": N("上报"), "create": N("创建"), "photo_add": N("上传照片"), "merge_in": N("并入重复举报"),
    "consult": N("联办会商"), "task_open": N("协办任务"), "overdue": N("超期"), "remind": N("催办"),
    "notice": N("通报"),
})

_EXTRACT = (
    N("待立案"), N("核实中"), N("作废待批"), N("已作废"), N("待派遣"), N("待签收"), N("退回待批"), N("处置中"),
    N("延期待批"), N("挂账待批"), N("挂账中"), N("待核查"), N("待结案"), N("待回访"), N("已归档"), N("已合并"),
    N("协办中"), N("已完成"), N("已免除"),
    N("派核实"), N("核实"), N("立案"), N("申请作废"), N("批准作废"), N("驳回作废"), N("派遣"), N("签收"), N("退回"),
    N("同意退回"), N("申请延期"), N("批准延期"), N("驳回延期"), N("申请挂账"), N("批准挂账"), N("驳回挂账"),
    N("恢复处置"), N("处置完毕"), N("核查通过"), N("核查不通过（返工）"), N("结案"), N("回访满意"),
    N("回访不满意（重办）"), N("自处理"), N("街道社区认领"), N("上报上级"), N("合并"), N("协办完成"), N("免除协办"),
)


@register.filter
def state_name(code: str) -> str:
    return gettext(_STATES.get(code, code or ""))


@register.filter
def action_name(code: str) -> str:
    return gettext(_ACTIONS.get(code, code or ""))


@register.filter
def light(case) -> str:
    """CSS class of the traffic light (green ≤ 80 % of the limit used, yellow ≤ 100 %, red overdue)."""
    if case is None:
        return "light-"
    return "light-" + ("red" if case.overdue else case.traffic_light())


LIGHT_NAMES = {"green": N("正常"), "yellow": N("临期"), "red": N("超期"), "": N("不计时")}


@register.filter
def light_name(case) -> str:
    key = "red" if case.overdue else case.traffic_light()
    return gettext(LIGHT_NAMES.get(key, ""))


@register.filter
def percent(value) -> str:
    if value is None or value == "":
        return "—"
    try:
        return f"{float(value) * 100:.1f}%"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
