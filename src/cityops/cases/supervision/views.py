"""Pages of supervision (督办): the supervisors' queue, a unit's inbox of orders to answer, and the panel on the
case page (its orders, the actions the user may take on them now, and the form to issue one). Reads through
supervision.selectors, writes through the workflow's actions and supervision.services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cityops.cases.models import Case, SupervisionOrder
from cityops.cases.supervision import LEVEL_LABELS, LEVELS, OPEN_ORDER_STATES, selectors, services
from cityops.cases.supervision.forms import CASE_TARGET, IssueForm, task_target
from cityops.cases.views import _case_or_404, _safe_next, error_text, page_window
from cityops.core import actions, calendar, roles
from cityops.core.errors import CityopsError

STAFF_ONLY = frozenset(roles.ALL_ROLES) - {roles.RESIDENT}


# --- the panel on the case page --------------------------------------------------------------------------
def issue_targets(case: Case, user) -> list[tuple[str, str]]:
    """What `user` may issue an order on now — the case, its open sub-tasks — by the dry run of `issue`."""
    issue = actions.find_action(SupervisionOrder, "issue")
    drafts = [(CASE_TARGET, _("本案件（%(unit)s）"), SupervisionOrder(case=case, unit_id=case.lead_department_id,
                                                                 state="draft"), case.lead_department)]
    for task in case.tasks.filter(state="open").select_related("department"):
        drafts.append((task_target(task.pk), _("协办任务（%(unit)s）"),
                       SupervisionOrder(case=case, task=task, unit_id=task.department_id, state="draft"), task.department))
    return [(value, label % {"unit": unit.name if unit else "—"}) for value, label, draft, unit in drafts
            if actions.may_take(draft, user, issue)]


def _order_acts(order: SupervisionOrder, user) -> list[dict]:
    return [{"t": t, "form": actions.action_form(order, t, auto_id=f"o{order.pk}-{t.action}-%s")}
            for t in actions.available_actions(order, user)]


def panel_context(case: Case, user, *, form: IssueForm | None = None, notice: str = "", notice_ok: bool = True) -> dict:
    if not user.role_codes & STAFF_ONLY:
        return {"shown": False}
    orders = list(selectors.case_orders(case=case))
    targets = issue_targets(case, user)
    return {
        "case": case,
        "rows": [{"order": o, "acts": _order_acts(o, user)} for o in orders],
        "issue_form": form if form is not None else (IssueForm(targets=targets) if targets else None),
        "shown": bool(orders or targets or notice),
        "notice": notice, "notice_ok": notice_ok, "next": f"/cases/{case.code}/#supervision",
    }


def render_panel(request, case: Case, **kw) -> str:
    return render_to_string("cases/supervision/_panel.html", panel_context(case, request.user, **kw), request=request)


def _answer_panel_or_redirect(request, case: Case, *, ok: bool, text: str, form: IssueForm | None = None):
    if request.htmx:
        fresh = Case.objects.get(pk=case.pk)
        return render(request, "cases/supervision/_panel.html",
                      panel_context(fresh, request.user, form=None if ok else form, notice=text, notice_ok=ok))
    (messages.success if ok else messages.error)(request, text)
    return redirect(_safe_next(request, f"/cases/{case.code}/#supervision"))


@login_required
@require_POST
def issue(request, code: str):
    """下达督办单 from the case page (htmx: answered with the panel as it is now)."""
    case = _case_or_404(request.user, code)
    # Nothing to offer (another role, a closed case, no unit holding it): the service says why, with its code.
    form = IssueForm(request.POST, targets=issue_targets(case, request.user) or [(CASE_TARGET, "")])
    if not form.is_valid():
        return _answer_panel_or_redirect(request, case, ok=False, text=actions.form_problems(form), form=form)
    d = form.cleaned_data
    # The form's choices are the targets the user may issue on now, so a chosen target is the case or one of
    # its open sub-tasks.
    task = None if d["target"] == CASE_TARGET else case.tasks.get(pk=int(d["target"].removeprefix("task-")))
    try:
        order = services.supervision_issue(actor=request.user, case=case, task=task, level=d["level"],
                                           reason=d["reason"], hours=d["hours"])
    except CityopsError as exc:
        return _answer_panel_or_redirect(request, case, ok=False, text=error_text(exc), form=form)
    text = _("已下达%(level)s，请%(unit)s于 %(deadline)s 前回复") % {
        "level": LEVEL_LABELS[order.level], "unit": order.unit.name,
        "deadline": timezone.localtime(order.deadline_at).strftime("%Y-%m-%d %H:%M")}
    return _answer_panel_or_redirect(request, case, ok=True, text=text)


@login_required
@require_POST
def order_action(request, pk: int, action: str):
    """One action on an order (answer, close, escalate, withdraw), from the case page, the queue or the inbox."""
    order = selectors.order_list(user=request.user).filter(pk=pk).first()
    if order is None or action not in {t.action for t in actions.person_actions(SupervisionOrder.workflow)} - {"issue"}:
        raise Http404(_("督办单不存在"))
    t = actions.find_action(SupervisionOrder, action)
    form = actions.action_form(order, t, request.POST)
    if not form.is_valid():
        ok, text = False, actions.form_problems(form)
    else:
        try:
            actions.run_action(order, action, request.user, form.cleaned_data)
            ok, text = True, _("「%(action)s」已完成") % {"action": t.label}
        except CityopsError as exc:
            ok, text = False, error_text(exc)
    if request.htmx and request.POST.get("fragment") == "panel":
        return _answer_panel_or_redirect(request, order.case, ok=ok, text=text)
    (messages.success if ok else messages.error)(request, text)
    return redirect(_safe_next(request, "/cases/supervision/"))


# --- the queue and the inbox -----------------------------------------------------------------------------
def _late_hours(order: SupervisionOrder, now) -> float | None:
    """Working hours past the deadline of an order still waiting for its answer."""
    if order.state != "issued" or order.deadline_at is None or order.deadline_at >= now:
        return None
    return round(calendar.work_seconds_between(order.deadline_at, now) / 3600, 1)


def _rows(orders, user) -> list[dict]:
    now = timezone.now()
    return [{"order": o, "light": o.traffic_light(now) if o.state == "issued" else "", "late": _late_hours(o, now),
             "acts": _order_acts(o, user)} for o in orders]


@login_required
def queue(request):
    """督办队列: open orders by level (挂牌督办 first) and lateness, with traffic lights."""
    if not selectors.may_read_queue(request.user):
        raise PermissionDenied(_("只有督办员和领导可以查看督办队列"))
    level = request.GET.get("level", "")
    level = level if level in LEVELS else ""
    window = page_window(request, selectors.supervision_queue(user=request.user, level=level))
    counts = {code: 0 for code in LEVELS}
    for code in selectors.order_list(user=request.user).filter(state__in=OPEN_ORDER_STATES).values_list("level", flat=True):
        counts[code] = counts.get(code, 0) + 1
    return render(request, "cases/supervision/queue.html", {
        "page": window, "rows": _rows(window.items, request.user), "level": level, "next": request.get_full_path(),
        "levels": [(code, LEVEL_LABELS[code], counts[code]) for code in reversed(LEVELS)],
    })


@login_required
def inbox(request):
    """本单位待回复督办单: what the user's units must answer, by deadline."""
    if not request.user.role_codes & {roles.DEPT_HANDLER, roles.DEPT_LEAD, roles.REGION_STAFF}:
        raise PermissionDenied(_("只有责任单位的工作人员可以回复督办单"))
    window = page_window(request, selectors.unit_inbox(user=request.user))
    return render(request, "cases/supervision/inbox.html", {
        "page": window, "rows": _rows(window.items, request.user), "next": request.get_full_path(),
    })

