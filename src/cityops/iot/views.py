"""Web pages of the IoT app: devices, a device with its 24-hour charts, alarms with their actions. Thin:
reads through selectors, writes through services (same as the API)."""

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
from cityops.iot import selectors
from cityops.iot.catalog import TYPES, metric_label, metric_name, metric_unit
from cityops.iot.charts import svg_chart
from cityops.iot.models import Alarm, Device, Rule


def _or_404(selector, **kwargs):
    try:
        return selector(**kwargs)
    except NotFound as exc:
        raise Http404(exc.message) from exc


# The alarm timeline's entries that are not transitions of the workflow.
TIMELINE_ACTIONS = {"raise": gettext_lazy("触发告警"), "delete": gettext_lazy("删除")}


def _alarm_timeline(alarm) -> list[dict]:
    """The alarm's timeline in the page's language, people by display name (core.timeline.timeline_shown)."""
    out = timeline_shown(alarm, extra_actions=TIMELINE_ACTIONS)
    for entry in out:
        entry["value"] = entry["params"].get("value")
    return out


@login_required
def device_list(request):
    devices = selectors.device_list(user=request.user, type=request.GET.get("type", ""),
                                    status=request.GET.get("status", ""), q=request.GET.get("q", ""))
    alarms = selectors.alarm_list(user=request.user, open_only=True)[:50]
    everything = selectors.device_list(user=request.user)
    # After `load_demo` no sensor sends anything until the simulation runs: say how to start it.
    all_offline = everything.exists() and not everything.filter(status=Device.Status.ONLINE).exists()
    return render(request, "iot/device_list.html", {
        "devices": devices[:500], "count": devices.count(), "alarms": alarms, "types": TYPES,
        "all_offline": all_offline,
    })


@login_required
def device_detail(request, code):
    device = _or_404(selectors.device_get, user=request.user, code=code)
    charts = []
    for metric, unit in (device.metrics or {}).items():
        rule = Rule.objects.filter(active=True, kind="threshold", metric=metric).filter(
            device=device).first() or Rule.objects.filter(active=True, kind="threshold", metric=metric,
                                                          device_type=device.type, device__isnull=True).first()
        series = selectors.rollup_series(device=device, metric=metric, hours=24)
        shown_unit = metric_unit(metric, unit)
        charts.append({"metric": metric, "label": metric_label(metric, unit), "svg": svg_chart(
            series, unit=shown_unit, label=metric_name(metric), threshold=rule.threshold if rule else None),
            "points": len(series)})
    readings = selectors.reading_list(device=device, limit=20)
    alarms = selectors.alarm_list(user=request.user).filter(device=device)[:20]
    return render(request, "iot/device_detail.html", {
        "device": device, "charts": charts, "readings": readings, "alarms": alarms,
        "type_label": TYPES.get(device.type, {}).get("label", device.type), "units": device.metrics or {},
    })


@login_required
def alarm_list(request):
    open_only = request.GET.get("open") == "1"
    alarms = selectors.alarm_list(user=request.user, state=request.GET.get("state", ""),
                                  severity=request.GET.get("severity", ""), open_only=open_only)
    return render(request, "iot/alarm_list.html", {"alarms": alarms[:500], "open_only": open_only})


@login_required
def alarm_detail(request, pk):
    alarm = _or_404(selectors.alarm_get, user=request.user, pk=pk)
    acts = [{"t": t, "form": actions.action_form(alarm, t)} for t in actions.available_actions(alarm, request.user)]
    return render(request, "iot/alarm_detail.html", {"alarm": alarm, "timeline": _alarm_timeline(alarm), "acts": acts})


@login_required
@require_POST
def alarm_action(request, pk, action):
    alarm = _or_404(selectors.alarm_get, user=request.user, pk=pk)
    try:
        t = actions.find_action(Alarm, action)
    except CityopsError:
        messages.error(request, _("未知操作"))
        return redirect("iot:alarm", pk=pk)
    form = actions.action_form(alarm, t, request.POST)
    if not form.is_valid():
        messages.error(request, actions.form_problems(form))
        return redirect("iot:alarm", pk=pk)
    try:
        actions.run_action(alarm, action, request.user, form.cleaned_data)
        messages.success(request, _("操作已完成"))
    except CityopsError as exc:
        messages.error(request, exc.message)
    return redirect("iot:alarm", pk=pk)
