"""The dashboard's figures: today's and a chosen period's, for the user's area or a region drilled into.

Cases (the same definitions as the home page's figures, cases/home.py, and the evaluation — all from the
timeline): intake by channel (Case.source), open and overdue now, the on-time rate of what was handled
(`handle` entries with on_time), satisfaction (follow-ups against reopenings), the top categories, 属地解决率 (the
four levels' shares, cases/levels.py) and the trend per day. Open IoT alarms. The other domains' headline figures
come through each AppConfig's `dashboard_figures(user, start, end, region[, at=])` hook (a list of
core.home.Figure); disputes and stability have theirs here until their apps declare one (an app's own hook replaces
these). With `at` (a briefing's end of period) a hook counts the states as they were at that instant, from the
timeline (core.timeline.in_states_at); the dashboard asks for now.

Scope: the cases are the user's (cases.selectors.case_list); the timeline's entries are counted inside the region
(their `region` stamp) and, for a department's staff, their units' entries only (the `dept` stamp).
"""

from __future__ import annotations

import inspect
from collections import Counter
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cityops.cases.levels import level_rows
from cityops.cases.models import Case, Category
from cityops.cases.workflow import OPEN_STATES
from cityops.core import roles
from cityops.core.errors import InvalidInput
from cityops.core.home import Figure, percent
from cityops.core.models import TimelineEntry
from cityops.core.scope import is_city_wide
from cityops.dashboard import aggregation, rollup
from cityops.dashboard.models import CaseDay

MAX_DAYS = 366


def parse_period(start_text, end_text, *, today: date | None = None) -> tuple[date, date]:
    """[from, to] as dates (both inclusive); by default the last 7 days up to today."""
    today = today or timezone.localdate()
    values = []
    for key, text in (("from", start_text), ("to", end_text)):
        text = aggregation._clean_text(text, field=f"{key}_date", max_length=10)
        try:
            values.append(date.fromisoformat(text) if text else None)
        except ValueError:
            raise InvalidInput(f"日期格式应为 YYYY-MM-DD：{text!r}", f"Dates are YYYY-MM-DD: {text!r}",
                               code="invalid_date") from None
    end = values[1] or today
    start = values[0] or end - timedelta(days=6)
    if end < start:
        raise InvalidInput("结束日期早于开始日期", "'to' is before 'from'", code="invalid_range")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput(f"时间段最长 {MAX_DAYS} 天", f"A period is at most {MAX_DAYS} days", code="period_too_long")
    return start, end


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (timezone.make_aware(datetime.combine(start, time.min)),
            timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min)))


def _unit_codes(user) -> list[str] | None:
    """The org units whose timeline entries a department's staff count; None: not limited by unit."""
    if is_city_wide(user) or user.role_codes & roles.REGION_BOUND_ROLES:
        return None
    return list(user.org_units.values_list("code", flat=True))


def _entries(user, region: str, lo: datetime, hi: datetime):
    qs = TimelineEntry.objects.filter(subject_type=Case._meta.label_lower, at__gte=lo, at__lt=hi)
    if region:
        qs = qs.filter(params__region__startswith=region)
    units = _unit_codes(user)
    if units is not None:
        qs = qs.filter(params__dept__in=units)
    return qs


def case_figures(*, user, region: str, start: date, end: date) -> dict:
    """Today's and the period's figures of the cases the user may read inside `region` ("" = the user's area)."""
    now = timezone.localtime()
    today_lo, today_hi = _bounds(now.date(), now.date())
    lo, hi = _bounds(start, end)
    everything = aggregation.cases_in_scope(user=user, filters={"status": "all"}, region=region)
    period = everything.filter(created_at__gte=lo, created_at__lt=hi)
    # COUNT(*) and a column of the map's index (not the id): read from the open cases' index alone.
    now_open = everything.filter(state__in=OPEN_STATES).aggregate(
        open=Count("*"), late=Count("lon", filter=aggregation.late_q()))
    today_intake = everything.filter(created_at__gte=today_lo, created_at__lt=today_hi).count()
    # The period's intake by channel, category and day: one pass over its cases, summed here.
    by_source, by_category, intake_per_day = Counter(), Counter(), Counter()
    for source, category_id, day, n in (
            period.values_list("source", "category_id", TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
            .annotate(n=Count("*"))):
        by_source[source] += n
        by_category[category_id] += n
        intake_per_day[day] += n
    labels = dict(Case.Source.choices)
    channels = [{"key": k, "label": str(labels.get(k, k)), "n": n}
                for k, n in sorted(by_source.items(), key=lambda kv: -kv[1])]
    top = [{"category_id": pk, "n": n} for pk, n in sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0]))[:5]]
    names = {c.pk: c for c in Category.objects.filter(pk__in=[t["category_id"] for t in top])}
    english = (get_language() or "").startswith("en")
    top_categories = [{"code": names[t["category_id"]].code, "n": t["n"],
                       "name": (names[t["category_id"]].name_en if english and names[t["category_id"]].name_en
                                else names[t["category_id"]].name_zh)} for t in top]
    got, handled_per_day = timeline_figures(user, region, lo, hi)
    followed = got["satisfied"] + got["unsatisfied"]
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return {
        "today": {"intake": today_intake, "open": now_open["open"], "overdue": now_open["late"]},
        "period": {
            "intake": sum(by_source.values()), "channels": channels, "top_categories": top_categories,
            "handled": got["handled"], "on_time_rate": _rate(got["handled"] - got["handled_late"], got["handled"]),
            "followed_up": followed, "satisfaction": _rate(got["satisfied"], followed),
        },
        "levels": None if _unit_codes(user) is not None else level_rows(
            {level: got[field] for level, field in rollup.LEVEL_FIELDS.items()}),
        "trend": {"days": [d.isoformat() for d in days], "intake": [intake_per_day.get(d, 0) for d in days],
                  "handled": [handled_per_day.get(d, 0) for d in days]},
    }


def timeline_figures(user, region: str, lo: datetime, hi: datetime) -> tuple[dict, dict]:
    """From the timeline of [lo, hi): what was handled (and late), followed up satisfied or reopened, closed at each
    level (rollup.timeline_counts), and handled per day. Ended days come from the worker's day rows
    (rollup.CaseDay) where they can answer (no unit filter, a region down to a community); the rest — today, or
    everything where they cannot — from the entries themselves."""
    got = dict.fromkeys(rollup.timeline_counts(), 0)
    per_day: dict[date, int] = {}
    counted = rollup.days_counted(region=region) if _unit_codes(user) is None else None
    if counted is not None and counted[0] <= lo < counted[1]:
        upto = min(hi, counted[1])
        rows = CaseDay.objects.filter(day__gte=timezone.localtime(lo).date(), day__lt=timezone.localtime(upto).date())
        if region:
            rows = rows.filter(region_code__startswith=region)
        for key, value in rows.aggregate(**{key: Sum(key) for key in got}).items():
            got[key] += value or 0
        per_day.update(rows.values_list("day").annotate(n=Sum("handled")))
        lo = upto
    if lo < hi:
        entries = _entries(user, region, lo, hi).filter(action__in=rollup.TIMELINE_ACTIONS)
        for key, value in entries.aggregate(**rollup.timeline_counts()).items():
            got[key] += value
        per_day.update(entries.filter(action__in=rollup.HANDLE)
                       .annotate(day=TruncDate("at", tzinfo=timezone.get_current_timezone()))
                       .values_list("day").annotate(n=Count("pk")))
    return got, per_day


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def alarm_figures(*, user, region: str, start: date, end: date, at: datetime | None = None) -> list[Figure]:
    """Open alarms (now, or at the instant `at`: from each alarm's timeline) and the alarms raised in the period."""
    if not apps.is_installed("cityops.iot"):
        return []
    from cityops.core.timeline import in_states_at
    from cityops.iot.selectors import alarm_list
    from cityops.iot.workflow import OPEN_STATES as ALARM_OPEN

    qs = alarm_list(user=user).order_by()
    if region:
        qs = qs.filter(device__region_code__startswith=region)
    lo, hi = _bounds(start, end)
    got = qs.aggregate(open=Count("pk", filter=Q(state__in=ALARM_OPEN)),
                       period=Count("pk", filter=Q(opened_at__gte=lo, opened_at__lt=hi)))
    if at is not None:
        got["open"] = in_states_at(qs, at=at, states=ALARM_OPEN, born="opened_at").count()
    return [Figure(_("未处理告警"), str(got["open"]), url="/iot/alarms/", alert=got["open"] > 0),
            Figure(_("期间告警"), str(got["period"]), url="/iot/alarms/")]


# --- the other domains: built-in until their apps declare dashboard_figures ----------------------------------
def dispute_figures(user, start: date, end: date, region: str = "", *, at: datetime | None = None) -> list[Figure]:
    """Open disputes (high risk among them) in the region — now, or at the instant `at` (their state and risk
    level then, from their timelines: disputes.selectors.high_risk_at); agreements and the success rate of the
    period (disputes/evaluation.py, its centres' rows, counted from the period's timeline entries) for those who
    may read the evaluation, at the user's top only — the evaluation is per centre, not per region."""
    from cityops.core.errors import Forbidden
    from cityops.core.timeline import in_states_at
    from cityops.disputes import evaluation
    from cityops.disputes.selectors import dispute_list, high_risk_at
    from cityops.disputes.workflow import DISPUTE_WORKFLOW

    undone = [s for s, st in DISPUTE_WORKFLOW.states.items() if not st.terminal]
    qs = dispute_list(user=user).order_by()
    if region:
        qs = qs.filter(region_code__startswith=region)
    if at is None:
        got = qs.filter(state__in=undone).aggregate(open=Count("pk"), high=Count("pk", filter=Q(risk_level="high")))
    else:
        got = in_states_at(qs, at=at, states=undone).aggregate(open=Count("pk"), high=Count("pk", filter=high_risk_at(at)))
    out = [Figure(_("在调纠纷"), str(got["open"]), url="/disputes/", hint=_("其中高风险 %(n)d 件") % {"n": got["high"]},
                  alert=got["high"] > 0)]
    if not region:
        try:
            rows = evaluation.evaluate(user=user, start=start, end=end)["centres"]
        except Forbidden:
            rows = []
        if rows:
            agreed = sum(r.get("agreements", 0) for r in rows)
            finished = sum(r.get("finished", 0) for r in rows)
            out += [Figure(_("调解成功"), str(agreed), url="/disputes/evaluation/"),
                    Figure(_("调解成功率"), percent(agreed, finished), url="/disputes/evaluation/",
                           hint=_("办结 %(n)d 件") % {"n": finished})]
    return out


def decision_figures(user, start: date, end: date, region: str = "", *, at: datetime | None = None) -> list[Figure]:
    """Decisions in consultation and in monitoring — now, or at the instant `at` (from their timelines)."""
    from cityops.core.timeline import in_states_at
    from cityops.stability.selectors import decision_list, with_region_nesting

    qs = decision_list(user=user).order_by()
    if region:
        qs = qs.filter(with_region_nesting(region))  # any of its regions, not only the first
    watched = ("consultation", "monitoring")
    state = "state"
    if at is not None:
        qs, state = in_states_at(qs, at=at, states=watched), "state_then"
    got = qs.aggregate(consultation=Count("pk", filter=Q(**{state: "consultation"})),
                       monitoring=Count("pk", filter=Q(**{state: "monitoring"})))
    return [Figure(_("稳评征求意见中"), str(got["consultation"]), url="/stability/"),
            Figure(_("稳评跟踪监测中"), str(got["monitoring"]), url="/stability/")]


BUILT_IN = {"disputes": dispute_figures, "stability": decision_figures}


def domain_figures(*, user, start: date, end: date, region: str = "", at: datetime | None = None) -> list[dict]:
    """Every domain's headline figures: {"app", "label", "figures": [...], "as_of": bool}. With `at` (a briefing:
    the end of its period) the states are those at that instant, from the domain's timeline, for every hook that
    takes `at`; a hook that does not (an app's own, declared without it) gives its figures as they are now, and
    its entry says so (`as_of` False) — a briefing must not pass a figure of now off as one of its period."""
    out = []
    for config in apps.get_app_configs():
        hook = getattr(config, "dashboard_figures", None) or BUILT_IN.get(config.label)
        if hook is None:
            continue
        if config.label in BUILT_IN and getattr(config, "dashboard_figures", None) is None and not _reads(user, config.label):
            continue
        as_of = at is not None and "at" in inspect.signature(hook).parameters
        figures = hook(user, start, end, region, at=at) if as_of else hook(user, start, end, region)
        if figures:
            out.append({"app": config.label, "label": str(config.verbose_name),
                        "figures": [_figure(f) for f in figures], "as_of": as_of or at is None})
    return out


def _reads(user, label: str) -> bool:
    """Whether the built-in figures of `label` concern the user (its readers: the city-wide roles and the app's own)."""
    if is_city_wide(user):
        return True
    if label == "disputes":
        return bool(user.role_codes & {roles.MEDIATOR, roles.CENTRE_STAFF, *roles.REGION_BOUND_ROLES})
    return bool(user.role_codes & roles.REGION_BOUND_ROLES) or user.org_units.exists()


def _figure(f: Figure) -> dict:
    return {"label": str(f.label), "value": f.value, "url": f.url, "hint": str(f.hint), "alert": f.alert}


def figures(*, user, region: str, start: date, end: date) -> dict:
    """All the figures, cached briefly per scope, region and period (aggregation.cached)."""
    return aggregation.cached("kpis", user, {"region": region, "from": start, "to": end, "day": timezone.localdate()},
                              lambda: _figures(user=user, region=region, start=start, end=end))


def _figures(*, user, region: str, start: date, end: date) -> dict:
    return {
        "from": start.isoformat(), "to": end.isoformat(),
        "cases": case_figures(user=user, region=region, start=start, end=end),
        "alarms": [_figure(f) for f in alarm_figures(user=user, region=region, start=start, end=end)],
        "domains": domain_figures(user=user, start=start, end=end, region=region),
    }
