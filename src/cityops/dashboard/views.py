"""Web pages of the dashboard: for now the early warnings — the open ones (phone width), one warning with its
cases, its actions and its timeline. Thin: reads through selectors, actions through core.actions (as the API)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cityops.core import actions
from cityops.core.errors import CityopsError, NotFound
from cityops.core.timeline import timeline_shown
from cityops.dashboard import selectors
from cityops.dashboard.models import EarlyWarning

# The timeline's entries that are not transitions of the workflow.
TIMELINE_ACTIONS = {"raise": gettext_lazy("发出预警")}


def _get(request, pk) -> EarlyWarning:
    try:
        return selectors.warning_get(user=request.user, pk=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
def warning_list(request):
    show_all = request.GET.get("all") == "1"
    warnings = selectors.warning_list(user=request.user, open_only=not show_all)[:200]
    shown = [{"w": w, "cases": list(selectors.warning_cases(warning=w, limit=12))} for w in warnings]
    return render(request, "dashboard/warning_list.html", {"warnings": shown, "show_all": show_all})


@login_required
def warning_detail(request, pk):
    warning = _get(request, pk)
    acts = [{"t": t, "form": actions.action_form(warning, t)} for t in actions.available_actions(warning, request.user)]
    return render(request, "dashboard/warning_detail.html", {
        "warning": warning, "cases": selectors.warning_cases(warning=warning), "acts": acts,
        "timeline": timeline_shown(warning, extra_actions=TIMELINE_ACTIONS),
    })


@login_required
@require_POST
def warning_action(request, pk, action):
    warning = _get(request, pk)
    try:
        t = actions.find_action(EarlyWarning, action)
    except CityopsError:
        messages.error(request, _("未知操作"))
        return redirect("dashboard:warning", pk=pk)
    form = actions.action_form(warning, t, request.POST)
    if not form.is_valid():
        messages.error(request, actions.form_problems(form))
        return redirect("dashboard:warning", pk=pk)
    try:
        actions.run_action(warning, action, request.user, form.cleaned_data)
        messages.success(request, _("操作已完成"))
    except CityopsError as exc:
        messages.error(request, exc.message)
    return redirect("dashboard:warning", pk=pk)
