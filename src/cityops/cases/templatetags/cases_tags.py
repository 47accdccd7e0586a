"""Names of states and actions in the page's language, traffic lights and small formats for case pages.

The Chinese names come from the workflow table (cases/workflow.py) and are translated at render time; the
gettext_noop list below only lets `makemessages` find them for the English catalogue."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from cityops.cases.workflow import CASE_WORKFLOW, TASK_WORKFLOW

register = template.Library()

_STATES = {code: str(st.label) for wf in (CASE_WORKFLOW, TASK_WORKFLOW) for code, st in wf.states.items()}
_ACTIONS = {t.action: str(t.label) for wf in (CASE_WORKFLOW, TASK_WORKFLOW) for t in wf.transitions}
# Timeline entries that are not transitions.
_ACTIONS.update({
    "report": gettext_noop("上报"), "create": gettext_noop("创建"), "photo_add": gettext_noop("上传照片"), "merge_in": gettext_noop("并入重复举报"),
    "consult": gettext_noop("联办会商"), "task_open": gettext_noop("协办任务"), "overdue": gettext_noop("超期"), "remind": gettext_noop("催办"),
    "notice": gettext_noop("通报"),
    # Supervision orders (cases/supervision), on the case's timeline.
    "supervise": gettext_noop("下达督办单"), "supervision_answer": gettext_noop("督办回复"),
    "supervision_escalate": gettext_noop("督办升级"), "supervision_close": gettext_noop("督办办结"),
    "supervision_withdraw": gettext_noop("撤销督办"),
    "to_dispute": gettext_noop("转为矛盾纠纷"),  # disputes.services.dispute_from_case
})

_EXTRACT = (
    gettext_noop("待立案"), gettext_noop("核实中"), gettext_noop("作废待批"), gettext_noop("已作废"), gettext_noop("待派遣"), gettext_noop("待签收"), gettext_noop("退回待批"), gettext_noop("处置中"),
    gettext_noop("延期待批"), gettext_noop("挂账待批"), gettext_noop("挂账中"), gettext_noop("待核查"), gettext_noop("待结案"), gettext_noop("待回访"), gettext_noop("已归档"), gettext_noop("已合并"),
    gettext_noop("协办中"), gettext_noop("已完成"), gettext_noop("已免除"),
    gettext_noop("派核实"), gettext_noop("核实"), gettext_noop("立案"), gettext_noop("申请作废"), gettext_noop("批准作废"), gettext_noop("驳回作废"), gettext_noop("派遣"), gettext_noop("签收"), gettext_noop("退回"),
    gettext_noop("同意退回"), gettext_noop("申请延期"), gettext_noop("批准延期"), gettext_noop("驳回延期"), gettext_noop("申请挂账"), gettext_noop("批准挂账"), gettext_noop("驳回挂账"),
    gettext_noop("恢复处置"), gettext_noop("处置完毕"), gettext_noop("核查通过"), gettext_noop("核查不通过（返工）"), gettext_noop("结案"), gettext_noop("回访满意"),
    gettext_noop("回访不满意（重办）"), gettext_noop("自处理"), gettext_noop("街道社区认领"), gettext_noop("上报上级"), gettext_noop("合并"), gettext_noop("协办完成"), gettext_noop("免除协办"),
)


@register.filter
def state_name(code: str) -> str:
    return gettext(_STATES.get(code, code or ""))


@register.filter
def action_name(code: str) -> str:
    return gettext(_ACTIONS.get(code, code or ""))


def light_of(case, now=None) -> str:
    """green ≤ 80 % of the limit used, yellow ≤ 100 %, red overdue, "" when no clock runs (the model's
    traffic_light). A running clock past its deadline is red without walking the working-time calendar
    — the walk over a long-overdue case's months was most of a queue page's time. Kept on the object, so a
    row asks once."""
    if case is None:
        return ""
    cached = getattr(case, "_light", None)
    if cached is not None:
        return cached
    now = now or timezone.now()
    if case.overdue or (case.deadline_at is not None and case.clock_paused_at is None and case.deadline_at < now):
        value = "red"
    else:
        value = case.traffic_light(now)
    case._light = value
    return value


@register.filter
def light(case) -> str:
    """CSS class of the traffic light."""
    return "light-" + light_of(case)


LIGHT_NAMES = {"green": gettext_noop("正常"), "yellow": gettext_noop("临期"), "red": gettext_noop("超期"), "": gettext_noop("不计时")}


@register.filter
def light_name(case) -> str:
    return gettext(LIGHT_NAMES.get(light_of(case), ""))


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


# --- inline action forms of a case in a queue ---------------------------------------------------------------
def _unit_options(context, case) -> str:
    """The <option>s of the units a row's case can be dispatched to: the page's departments, or for a case waiting
    at the district level its district's bureaus and streets (forms.dispatch_choices) — built once per render
    and district."""
    from django.utils.html import format_html

    key = case.district_code if case.level == "district" and case.district_code else ""
    cache = context.dicts[0].setdefault("_cases_unit_options", {})
    if key not in cache:
        from cityops.cases.forms import district_unit_choices

        choices = district_unit_choices(key) if key else context.get("units", ())
        cache[key] = "".join(format_html('<option value="{}">{}</option>', c, name) for c, name in choices)
    return cache[key]


# Rendered in Python: a queue page carries a few forms per row on up to a page of rows, and the template
# engine's per-node cost made that the largest share of the page's time.
@register.simple_tag(takes_context=True)
def case_actions(context, case, acts, fragment: str = "", target: str = "") -> str:
    from django.utils.html import escape, format_html
    from django.utils.safestring import mark_safe

    if case is None or not acts:
        return ""
    csrf = context.get("csrf_token")
    hidden = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', csrf) if csrf else ""
    hidden += format_html('<input type="hidden" name="next" value="{}">', context.get("next", ""))
    if fragment:
        hidden += format_html('<input type="hidden" name="fragment" value="{}">', fragment)
    out = []
    for a in acts:
        kind, code, label = a["kind"], a["code"], a["label"]
        if kind == "merge":
            continue
        url = f"/cases/{case.code}/act/{code}/"
        hx = format_html(' hx-post="{}" hx-target="closest {}" hx-swap="outerHTML"', url, target) if fragment else ""
        if kind == "dispatch":
            proposed = case.proposed_department.code if case.proposed_department_id and case.proposed_department else ""
            plain = _unit_options(context, case)
            options = plain.replace(f'value="{escape(proposed)}"', f'value="{escape(proposed)}" selected', 1) if proposed else plain
            body = format_html(
                '<select name="department" aria-label="{}">{}</select>'
                '<details class="assist"><summary>{}</summary><select name="assisting" multiple size="4" aria-label="{}">{}</select></details>'
                '<button type="submit" class="primary">{}</button>',
                gettext("主办部门"), mark_safe(options), gettext("协办"), gettext("协办部门"), mark_safe(plain), label,
            )
        elif kind == "check":
            body = format_html('<button type="submit" name="found" value="1" class="primary">{}</button>'
                               '<button type="submit" name="found" value="0">{}</button>',
                               gettext("核实属实"), gettext("核实不属实"))
        elif kind == "button":
            body = format_html('<button type="submit" class="{}">{}</button>', a.get("style") or "plain", label)
        else:
            extra = ""
            if kind == "extend":
                extra = format_html('<label>{}<input type="number" name="extra_hours" min="0.5" max="720" step="0.5" '
                                    'value="8" required></label>', gettext("延长（工作小时）"))
            name, text = ("result", gettext("处置结果")) if kind == "result" else ("reason", gettext("原因"))
            out.append(format_html(
                '<details class="act act-{}"><summary>{}</summary><form method="post" action="{}" class="stack"{}>{}{}'
                '<label>{}<textarea name="{}" rows="2" required></textarea></label>'
                '<button type="submit" class="{}">{}</button></form></details>',
                code, label, url, hx, hidden, extra, text, name, a.get("style") or "primary",
                gettext("提交：%(action)s") % {"action": label},
            ))
            continue
        out.append(format_html('<form method="post" action="{}" class="act act-{}"{}>{}{}</form>', url, code, hx, hidden, body))
    return mark_safe("".join(out))


@register.filter
def cat_name(category) -> str:
    """A category's name in the page's language (the taxonomy carries both)."""
    from django.utils.translation import get_language

    if category is None:
        return ""
    if (get_language() or "").startswith("en") and category.name_en:
        return category.name_en
    return category.name_zh


# --- names, never codes: units named in timeline params (dispatch → 供水公司, not → GS) ----------------------------
def unit_names_by_code(context) -> dict[str, tuple[str, str]]:
    """code → (name, English name) of every org unit, read once per render (a city has some hundred units)."""
    cache = context.dicts[0]
    if "_cases_unit_names" not in cache:
        from cityops.accounts.models import OrgUnit

        cache["_cases_unit_names"] = {code: (name, name_en) for code, name, name_en in
                                      OrgUnit.objects.values_list("code", "name", "name_en")}
    return cache["_cases_unit_names"]


@register.simple_tag(takes_context=True)
def unit_name(context, codes) -> str:
    """The name of the unit with this code (or the names of a list of codes, joined) in the page's language; the
    code itself only for a unit that no longer exists."""
    from django.utils.translation import get_language

    english = (get_language() or "").startswith("en")
    names = unit_names_by_code(context)
    out = []
    for code in codes if isinstance(codes, list | tuple) else [codes]:
        name, name_en = names.get(code, (code, ""))
        out.append(name_en if english and name_en else name)
    return "、".join(str(n) for n in out if n)


@register.simple_tag(takes_context=True)
def category_name(context, code) -> str:
    """The name of the category with this code in the page's language (for pages that hold a code, like the
    hotline's recent calls); the code only for a category that no longer exists."""
    from django.utils.translation import get_language

    cache = context.dicts[0]
    if "_cases_category_names" not in cache:
        from cityops.cases.models import Category

        cache["_cases_category_names"] = {c: (zh, en) for c, zh, en in Category.objects.values_list("code", "name_zh", "name_en")}
    name, name_en = cache["_cases_category_names"].get(code, (code or "", ""))
    return name_en if name_en and (get_language() or "").startswith("en") else name
