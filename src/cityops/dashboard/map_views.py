"""The dashboard's page at /dashboard/ (一图展示): one map with switchable layers and the figures beside it, drill-down
from the user's area down to a grid, a wall mode for the command centre's screens (?wall=1, or the button) and a
phone layout for leaders (figures first, map below). The page is a shell: its script (static/dashboard/map.js)
reads everything through the map's API (map_api.py), so the page and the API never disagree."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cityops.dashboard import aggregation, live, scores


@login_required
def dashboard(request):
    wall = request.GET.get("wall") == "1"
    roots = aggregation.area_roots(request.user)
    top = _("全市") if roots == [""] else _("我的辖区")
    config = {
        "api": "/api/v1/dashboard/map",
        "wall": wall,
        "today": timezone.localdate().isoformat(),
        "top": top,
        "warnings": reverse("dashboard:warnings"),
        "scores": scores.may_see(request.user),
        "load_colors": list(scores.LOAD_COLORS), "load_legend": scores.load_legend(), "none_color": scores.NONE_COLOR,
        "text": {
            "cases": _("案件"), "late": _("超期"), "open_page": _("打开详情"), "zoom_in": _("放大查看"),
            "drill": _("下钻到此区域"), "nothing": _("暂无数据"), "loading": _("加载中…"),
            "bins": _("按方格汇总"), "points": _("逐件显示"), "in_view": _("视野内"),
            "intake": _("受理"), "handled": _("办结"), "open": _("在办"), "overdue": _("超期在办"),
            "today_intake": _("今日受理"), "on_time": _("按时办结率"), "satisfaction": _("满意率"),
            "channels": _("受理渠道"), "top_categories": _("高发类别"), "levels": _("属地解决率"),
            "trend": _("受理与办结趋势"), "alarms": _("物联告警"), "period_intake": _("期间受理"),
            "level_rows": _("层级"), "resolved": _("解决"), "share": _("占比"), "local_rate": _("属地解决率"),
            "no_levels": _("本期没有结案"), "error": _("数据加载失败，请稍后重试"),
            "green": _("绿灯"), "yellow": _("黄灯"), "red": _("红灯"), "none": _("无时限"),
            "wall_on": _("大屏模式"), "wall_off": _("退出大屏"),
            "score": _("评分"), "rank": _("排名 %(rank)s / %(of)s"), "insufficient": _("样本不足，不排名"),
            "no_score": _("本期无立案，无评分"),
        },
    }
    # The live feed and the replay of a day (live.py) on the same map, for those who may watch (not residents).
    can_watch = live.scope_test(request.user) is not None
    return render(request, "dashboard/map.html", {"config": config, "wall": wall, "can_watch": can_watch,
                                                  "live_retry_seconds": live.retry_seconds()})

