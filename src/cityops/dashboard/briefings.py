"""城市运行日报/周报/月报: briefings of a day, an ISO week (Monday to Sunday) or a month, for the city, each district
and (with CITYOPS_BRIEFING_LEVELS) each street — their figures, charts and notable cases, as PDF and Excel.

- Schedule: the worker (tasks.PERIODIC "briefings", every CITYOPS_BRIEFING_INTERVAL seconds) asks `due(now)`: from
  CITYOPS_BRIEFING_HOUR (07:00) local on, yesterday's daily briefing, on Mondays last week's, on the 1st last
  month's — for every region of the levels. `make` is idempotent: a (kind, period, region) is made once (a database
  constraint); a rerun replaces nothing unless forced. Only the latest period of each kind is due: a worker that was
  down for days does not make the days it missed (the command makes any period by hand).
- Figures: the dashboard's own (kpis.py: intake by channel, on-time rate, satisfaction, top categories, 属地解决率
  from cases/levels.py, trend, IoT alarms, the disputes' headline figures from disputes/evaluation.py and the
  stability decisions in consultation) counted for the period inside the region, as a city-wide reader counts
  them. What happened is counted in the period; every state (open and overdue cases: `open_at`; open alarms,
  disputes and their risk, decisions, warnings: core.timeline.in_states_at) is the one at the end of the period,
  read from the timeline, so a briefing made again later for the same period says the same. Early warnings raised
  in the period. A domain hook that cannot count at an instant is marked as a figure of now (briefing_render.basis).
- Notable cases as they stood at the end of the period: the most overdue (`open_at` too), the supervision orders
  open then, the urgent cases of the period, the disputes open and of high risk then — code, category, place and
  state; no reporter's or party's personal data.
- Sent: an inbox notification to the level's leaders (city: the leader role; a district or street: the staff of a
  region-bound role whose regions include that region's code), with an e-mail through core.notify.EmailBackend when
  configured. The mail carries the link to the briefing's page, not the files: the files hold case addresses and
  are read behind the login and the scope.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation

from cityops.core import roles
from cityops.core.errors import InvalidInput, NotFound
from cityops.dashboard.briefing_models import Briefing, briefing_files
from cityops.dashboard.briefing_render import NOTABLE_LABELS, pdf_bytes, xlsx_bytes  # noqa: F401 - the files

logger = logging.getLogger(__name__)

KINDS = tuple(Briefing.Kind.values)
KIND_TITLES = {"daily": "城市运行日报", "weekly": "城市运行周报", "monthly": "城市运行月报"}
LEVEL_LENGTHS = {"district": 6, "street": 9}
NOTABLE_MAX = 10
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- periods and the schedule ---------------------------------------------------------------------------------
def period_of(kind: str, day: date) -> tuple[date, date]:
    """The period of `kind` that contains `day`: the day, its ISO week (Monday–Sunday) or its month."""
    if kind == "daily":
        return day, day
    if kind == "weekly":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if kind == "monthly":
        return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    raise clean_kind(kind)  # pragma: no cover - clean_kind raises


def period_label(kind: str, start: date) -> str:
    if kind == "weekly":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "monthly":
        return start.strftime("%Y-%m")
    return start.isoformat()


def ready_at(kind: str, start: date) -> datetime:
    """When a period's briefing becomes due: CITYOPS_BRIEFING_HOUR local on the day after it ends."""
    end = period_of(kind, start)[1]
    hour = getattr(settings, "CITYOPS_BRIEFING_HOUR", 7)
    return timezone.make_aware(datetime.combine(end + timedelta(days=1), time(hour)))


def latest_periods(now: datetime) -> list[tuple[str, date, date]]:
    """The latest finished period of each kind whose briefing is due at `now`."""
    today = timezone.localtime(now).date()
    out = []
    for kind in KINDS:
        start, end = period_of(kind, today - timedelta(days=1))
        if ready_at(kind, start) > now:  # before the hour: the period before it
            start, end = period_of(kind, start - timedelta(days=1))
        out.append((kind, start, end))
    return out


@dataclass(frozen=True)
class Place:
    code: str  # "" = the whole city
    level: str
    name: str


def places(levels=None) -> list[Place]:
    """The regions briefings are made for: the city, then the districts (and the streets) by code."""
    from cityops.geo.models import Region

    levels = list(levels if levels is not None else getattr(settings, "CITYOPS_BRIEFING_LEVELS", ["city", "district"]))
    out = [Place("", "city", "全市")] if "city" in levels else []
    wanted = [lv for lv in ("district", "street") if lv in levels]
    for region in Region.objects.filter(level__in=wanted).order_by("code"):
        out.append(Place(region.code, region.level, region.display_name))
    return out


def place_of(code: str) -> Place:
    """The city ("" or "city") or a district's or street's code."""
    from cityops.geo.models import Region

    text = "" if code is None else str(code).strip()
    if text in ("", "city"):
        return Place("", "city", "全市")
    if "\x00" in text or len(text) > 12 or not text.isdigit():
        raise InvalidInput("区域编码无效", "Invalid region code", code="invalid_region")
    region = Region.objects.filter(code=text, level__in=("district", "street")).first()
    if region is None:
        raise NotFound(f"没有编码为 {text} 的区或街道", f"No district or street with the code {text}",
                       code="region_not_found", status=404)
    return Place(region.code, region.level, region.display_name)


def due(now: datetime, levels=None) -> list[tuple[str, date, date, Place]]:
    """The briefings due at `now` that are not made yet: (kind, start, end, place)."""
    wanted = [(kind, start, end, place) for kind, start, end in latest_periods(now) for place in places(levels)]
    periods = _or([Q(kind=k, period_start=s) for k, s, _e in latest_periods(now)])
    made = set(Briefing.objects.filter(periods).values_list("kind", "period_start", "region_code"))
    return [(k, s, e, p) for k, s, e, p in wanted if (k, s, p.code) not in made]


def _or(qs: list[Q]) -> Q:
    out = Q(pk__in=[])
    for q in qs:
        out |= q
    return out


def clean_kind(kind) -> str:
    text = "" if kind is None else str(kind)
    if text not in KINDS:
        raise InvalidInput(f"类型应为 {'、'.join(KINDS)} 之一", f"kind must be one of {', '.join(KINDS)}",
                           code="invalid_kind")
    return text


def clean_day(value) -> date:
    if isinstance(value, date):
        return value
    text = "" if value is None else str(value).strip()
    try:
        if "\x00" in text or len(text) > 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"日期格式应为 YYYY-MM-DD：{text[:20]!r}", f"Dates are YYYY-MM-DD: {text[:20]!r}",
                           code="invalid_date") from None


# --- open and overdue at an instant, from the timeline -----------------------------------------------------------
@dataclass(frozen=True)
class OpenCase:
    pk: int
    state: str  # its state at the instant
    deadline: datetime | None  # the deadline running at the instant (None: no clock, or paused)
    late: bool


def _moment(text) -> datetime | None:
    if not text or text == "null":
        return None
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def open_at(region: str, at: datetime) -> list[OpenCase]:
    """The cases of `region` (a code prefix, "" = the city) that were open at the instant `at`, each with whether it
    was overdue then — read from the timeline, so the answer for a past instant does not change afterwards.

    A case was open at `at` if it was created before `at` and the state its last timeline entry before `at` left
    it in is an open one (a closing step after `at`, or a reopening before it, are thus taken as they happened).
    It was overdue then as the map's and the home page's `late_q` says now, at that instant: the deadline its last
    entry before `at` stamped (the engine stamps every step with the running deadline, core/workflow.py; a paused
    clock has none) had passed, or the overdue sweep had marked it (an `overdue` entry, or a later escalation
    step, core/workflow.sweep_overdue) and no step restarting or extending its clock came after the mark.

    Only cases open now or whose state changed at or after `at` can have been open then (a case closed since
    before `at` has no later state change): the timeline is read for those alone. A case without any entry before
    `at` (rows written without their timeline) counts in its workflow's first state, overdue by its own fields."""
    from django.db.models import Q, Subquery
    from django.db.models.fields.json import KT

    from cityops.cases.models import Case
    from cityops.cases.workflow import CASE_WORKFLOW, OPEN_STATES
    from cityops.core import workflow as wf
    from cityops.core.timeline import timeline_before

    marks = ["overdue", *{e.action for e in CASE_WORKFLOW.escalations}]
    resets = sorted({t.action for t in CASE_WORKFLOW.transitions if t.clock in (wf.CLOCK_RESTART, wf.CLOCK_EXTEND)})
    last = timeline_before(Case, at)  # the entries before `at`, the latest first
    rows = (
        Case.objects.filter(region_code__startswith=region, created_at__lt=at)
        .filter(Q(state__in=OPEN_STATES) | Q(state_changed_at__gte=at))
        .annotate(state_then=Subquery(last.values("to_state")[:1]),
                  deadline_then=Subquery(last.values(d=KT("params__deadline_at"))[:1]),
                  marked=Subquery(last.filter(action__in=marks).values("seq")[:1]),
                  reset=Subquery(last.filter(action__in=resets).values("seq")[:1]))
        .values_list("pk", "overdue", "deadline_at", "state_then", "deadline_then", "marked", "reset")
    )
    out = []
    for pk, overdue_now, deadline_now, state, deadline_text, marked, reset in rows:
        if state is None:  # no step recorded before `at`: its own fields, as late_q reads them
            out.append(OpenCase(pk, CASE_WORKFLOW.initial, deadline_now,
                                bool(overdue_now) or (deadline_now is not None and deadline_now < at)))
            continue
        if state not in OPEN_STATES:
            continue
        deadline = _moment(deadline_text)
        late = (deadline is not None and deadline < at) or (marked is not None and marked > (reset or 0))
        out.append(OpenCase(pk, state, deadline, late))
    return out


# --- the figures ------------------------------------------------------------------------------------------------
def viewer():
    """Who the figures are counted as: a city-wide reader (the leader role), never saved — the briefing is the
    region's, and who may read it is decided when it is listed or downloaded (selectors below)."""
    from cityops.accounts.models import User

    user = User(username="cityops-briefing", is_active=True)
    user.__dict__.update(role_codes=frozenset({roles.LEADER}), org_unit_ids=frozenset(), org_unit_codes=frozenset())
    return user


def gather(*, kind: str, start: date, end: date, place: Place, now: datetime | None = None) -> dict:
    """Every figure and notable case of the briefing, as plain JSON (kept on the row, drawn in PDF and Excel)."""
    from cityops.dashboard import kpis

    now = now or timezone.now()
    user = viewer()
    region = place.code
    as_of = min(_bounds(start, end)[1], now)  # the end of the period (now, for a period not over yet)
    still_open = open_at(region, as_of)
    cases = kpis.case_figures(user=user, region=region, start=start, end=end)
    trend = cases["trend"]
    if kind == "daily":  # one day's bar says little: the trend shows the week up to it
        trend = kpis.case_figures(user=user, region=region, start=end - timedelta(days=6), end=end)["trend"]
    alarms = [kpis._figure(f) for f in kpis.alarm_figures(user=user, region=region, start=start, end=end, at=as_of)]
    domains = kpis.domain_figures(user=user, start=start, end=end, region=region, at=as_of)
    levels = [{**lv, "share_text": pct(lv["share"]), "local_rate_text": pct(lv["local_rate"])}
              for lv in cases["levels"] or []]
    return {
        "kind": kind, "title": KIND_TITLES[kind], "period": period_label(kind, start),
        "from": start.isoformat(), "to": end.isoformat(),
        "region": {"code": place.code, "level": place.level, "name": place.name},
        "generated_at": timezone.localtime(now).isoformat(timespec="minutes"),
        "generated_text": timezone.localtime(now).strftime("%Y-%m-%d %H:%M"),
        "as_of": timezone.localtime(as_of).strftime("%Y-%m-%d %H:%M"),
        "open": len(still_open), "overdue": sum(1 for c in still_open if c.late),
        "period_figures": cases["period"], "levels": levels, "trend": trend,
        "rates": {"on_time": pct(cases["period"]["on_time_rate"]), "satisfaction": pct(cases["period"]["satisfaction"])},
        "alarms": alarms, "domains": domains,
        "warnings": _warnings(region, start, end, as_of),
        "notable": _notable(region, start, end, still_open=still_open, as_of=as_of),
    }


def pct(rate: float | None) -> str:
    """0.9355 → "93.6%" (half up); None (nothing to rate) → "—"."""
    from cityops.cases.evaluation_export import Cell

    return "—" if rate is None else Cell(rate, "rate").text


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (timezone.make_aware(datetime.combine(start, time.min)),
            timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min)))


def _warnings(region: str, start: date, end: date, as_of: datetime) -> dict:
    """The early warnings raised in the period, each in the state it was in at the end of the period."""
    from django.db.models import Subquery, Value
    from django.db.models.functions import Coalesce

    from cityops.core.models import state_label_for
    from cityops.core.timeline import timeline_before
    from cityops.dashboard.models import EarlyWarning

    lo, hi = _bounds(start, end)
    qs = EarlyWarning.objects.filter(detected_at__gte=lo, detected_at__lt=hi, region_code__startswith=region)
    then = qs.annotate(state_then=Coalesce(Subquery(timeline_before(EarlyWarning, as_of).values("to_state")[:1]),
                                           Value(EarlyWarning.workflow.initial)))
    then = then.select_related("category").order_by("-score")[:NOTABLE_MAX]
    rows = [{"category": w.category.name_zh, "region": w.region_name, "observed": w.observed,
             "expected": round(w.expected, 1), "detected_at": timezone.localtime(w.detected_at).strftime("%m-%d %H:%M"),
             "state": state_label_for(EarlyWarning.workflow, w.state_then), "url": f"/dashboard/warnings/{w.pk}/"}
            for w in then]
    return {"count": qs.count(), "rows": rows}


def _place(case) -> str:
    return " ".join(p for p in (case.district_name, case.street_name, case.community_name) if p) or case.address


def cases_then(pks, at: datetime) -> dict[int, tuple[str, datetime | None]]:
    """{pk: (state, running deadline)} of these cases at the instant `at`, from the last timeline entry before it
    (as open_at reads them); a case without any entry before `at` is in its workflow's first state, at its own
    deadline."""
    from django.db.models import Subquery
    from django.db.models.fields.json import KT

    from cityops.cases.models import Case
    from cityops.core.timeline import timeline_before

    last = timeline_before(Case, at)
    rows = Case.objects.filter(pk__in=list(pks)).annotate(
        state_then=Subquery(last.values("to_state")[:1]),
        deadline_then=Subquery(last.values(d=KT("params__deadline_at"))[:1]),
    ).values_list("pk", "state_then", "deadline_then", "deadline_at")
    return {pk: (state, _moment(deadline)) if state is not None else (Case.workflow.initial, deadline_now)
            for pk, state, deadline, deadline_now in rows}


def _case_row(case, then: tuple[str, datetime | None], **extra) -> dict:
    """A notable case as it stood at the end of the period: `then` is its (state, deadline) at that instant."""
    from cityops.core.models import state_label_for

    state, deadline = then
    row = {"code": case.code, "category": case.category.name_zh, "place": _place(case),
           "state": state_label_for(case.workflow, state),
           "reported": timezone.localtime(case.created_at).strftime("%Y-%m-%d %H:%M"),
           "deadline": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M") if deadline else "",
           "url": f"/cases/{case.code}/"}
    row.update(extra)
    return row


def _notable(region: str, start: date, end: date, *, still_open: list[OpenCase], as_of: datetime) -> dict:
    """The notable cases and disputes as they stood at the end of the period (`as_of`): the most overdue then, the
    supervision orders open then (at their level then), the urgent cases reported in the period, the disputes open
    and of high risk then — each case in its state then."""
    from django.db.models import CharField, Subquery
    from django.db.models.fields.json import KT
    from django.db.models.functions import Coalesce

    from cityops.cases.models import Case, SupervisionOrder
    from cityops.cases.supervision import OPEN_ORDER_STATES
    from cityops.core.timeline import in_states_at, timeline_before

    in_region = Case.objects.filter(region_code__startswith=region).select_related("category")
    # The most overdue at the end of the period (a running deadline passed then), as the counts.
    late = sorted((c for c in still_open if c.late and c.deadline is not None and c.deadline < as_of),
                  key=lambda c: (c.deadline, c.pk))[:NOTABLE_MAX]
    found = in_region.in_bulk([c.pk for c in late])
    overdue = [_case_row(found[c.pk], (c.state, c.deadline), late_hours=int((as_of - c.deadline).total_seconds() // 3600))
               for c in late if c.pk in found]
    before = timeline_before(SupervisionOrder, as_of)
    level_then = Coalesce(Subquery(before.filter(action="escalate").values(v=KT("params__to_level"))[:1]),
                          Subquery(before.filter(action="issue").values(v=KT("params__level"))[:1]), "level",
                          output_field=CharField())
    orders = list(in_states_at(SupervisionOrder.objects.filter(case__region_code__startswith=region), at=as_of,
                               states=OPEN_ORDER_STATES, born="issued_at")
                  .annotate(level_then=level_then).select_related("case__category", "unit")
                  .order_by("-issued_at", "-id")[:NOTABLE_MAX])
    lo, hi = _bounds(start, end)
    urgent = list(in_region.filter(urgency="urgent", created_at__gte=lo, created_at__lt=hi)
                  .order_by("-created_at", "-id")[:NOTABLE_MAX])
    then = cases_then([o.case_id for o in orders] + [c.pk for c in urgent], as_of)
    levels = dict(SupervisionOrder.Level.choices)
    supervised = [_case_row(o.case, then[o.case_id], level=str(levels.get(o.level_then, o.level_then)),
                            unit=o.unit.name if o.unit_id else "",
                            issued=timezone.localtime(o.issued_at).strftime("%Y-%m-%d %H:%M") if o.issued_at else "")
                  for o in orders]
    return {"overdue": overdue, "supervised": supervised, "urgent": [_case_row(c, then[c.pk]) for c in urgent],
            "disputes": _disputes(region, as_of)}


def _disputes(region: str, as_of: datetime) -> list[dict]:
    """The disputes open and of high risk at the end of the period, in their state then."""
    from django.apps import apps

    if not apps.is_installed("cityops.disputes"):
        return []
    from cityops.core.models import state_label_for
    from cityops.core.timeline import in_states_at
    from cityops.disputes.models import Dispute
    from cityops.disputes.selectors import high_risk_at
    from cityops.disputes.workflow import DISPUTE_WORKFLOW

    undone = [s for s, st in DISPUTE_WORKFLOW.states.items() if not st.terminal]
    qs = (in_states_at(Dispute.objects.filter(region_code__startswith=region), at=as_of, states=undone)
          .filter(high_risk_at(as_of)).order_by("created_at", "id")[:NOTABLE_MAX])
    return [{"code": d.code, "title": d.title, "kind": d.get_kind_display(),
             "state": state_label_for(DISPUTE_WORKFLOW, d.state_then),
             "reported": timezone.localtime(d.created_at).strftime("%Y-%m-%d %H:%M"),
             "url": f"/disputes/{d.pk}/"} for d in qs]


# --- making and sending -----------------------------------------------------------------------------------------
def make(*, kind: str, day, region: str = "", force: bool = False, send: bool = True,
         now: datetime | None = None, by: str = "worker") -> tuple[Briefing, bool]:
    """The briefing of the `kind` period containing `day` for `region` ("" = the city): made unless it exists
    (then returned as it is, False) or `force` (files and figures replaced, not sent again). A period is made only
    once it is over. Each making is on the briefing's timeline (`make`, `remake`; `send` when sent), by `by` (the
    worker, or the command). Returns (briefing, made)."""
    from cityops.core.timeline import timeline_append

    kind = clean_kind(kind)
    start, end = period_of(kind, clean_day(day))
    place = place_of(region)
    now = now or timezone.now()
    if timezone.localtime(now).date() <= end:
        raise InvalidInput(f"{period_label(kind, start)} 尚未结束，不能生成简报",
                           f"{period_label(kind, start)} is not over yet", code="period_not_over")
    existing = Briefing.objects.filter(kind=kind, period_start=start, region_code=place.code).first()
    if existing is not None and not force:
        return existing, False
    with translation.override(settings.LANGUAGE_CODE):
        figures = gather(kind=kind, start=start, end=end, place=place, now=now)
        pdf, xlsx = pdf_bytes(figures), xlsx_bytes(figures)
    base = f"{kind}/{period_label(kind, start)}/{place.code or 'city'}"
    storage = briefing_files()
    try:
        with transaction.atomic():
            row = (Briefing.objects.select_for_update()
                   .filter(kind=kind, period_start=start, region_code=place.code).first())
            if row is not None and not force:  # another worker made it meanwhile
                return row, False
            fields = {"period_end": end, "region_level": place.level, "region_name": place.name,
                      "generated_at": now, "figures": figures,
                      "pdf_name": _save(storage, f"{base}.pdf", pdf), "xlsx_name": _save(storage, f"{base}.xlsx", xlsx)}
            stamp = {"kind": kind, "period": period_label(kind, start), "region": place.code,
                     "pdf": fields["pdf_name"], "xlsx": fields["xlsx_name"]}
            if row is None:
                row = Briefing.objects.create(kind=kind, period_start=start, region_code=place.code, **fields)
                timeline_append(subject=row, action="make", actor_name=by, params=stamp, new_subject=True)
                if send:
                    transaction.on_commit(lambda: deliver(row))
            else:
                for key, value in fields.items():
                    setattr(row, key, value)
                row.generations += 1
                row.save()
                timeline_append(subject=row, action="remake", actor_name=by, params=stamp)
    except IntegrityError:  # made by another worker between our look and our insert
        return Briefing.objects.get(kind=kind, period_start=start, region_code=place.code), False
    return row, True


def _save(storage, name: str, content: bytes) -> str:
    if storage.exists(name):
        storage.delete(name)
    return storage.save(name, ContentFile(content))


def make_due(now: datetime | None = None) -> dict[str, int]:
    """The worker's job: make every briefing due at `now`; one failing is logged and the others go on."""
    now = now or timezone.now()
    made = failed = 0
    for kind, start, _end, place in due(now):
        try:
            _row, fresh = make(kind=kind, day=start, region=place.code, now=now)
            made += fresh
        except Exception:
            failed += 1
            logger.exception("briefing %s %s %s failed", kind, start, place.code or "city")
    return {"made": made, "failed": failed}


def subscribers(briefing: Briefing):
    """The leaders of the briefing's level: for the city the leader role; for a district or street the active
    staff of a region-bound role (a district's command centre, a street's office) whose regions include exactly
    its code."""
    from cityops.accounts.models import User

    users = User.objects.filter(is_active=True)
    if not briefing.region_code:
        return list(users.filter(groups__name=roles.LEADER).distinct())
    candidates = users.filter(groups__name__in=roles.REGION_BOUND_ROLES).distinct()
    return [u for u in candidates if briefing.region_code in (u.region_codes or [])]


def deliver(briefing: Briefing) -> int:
    """Send the briefing's notice through the notification backends (inbox, e-mail: the link to its page)."""
    from cityops.core.notify import emails_on, notify

    recipients = subscribers(briefing)
    figures = briefing.figures
    period = figures.get("period_figures", {})
    body = (f"{figures.get('from')} 至 {figures.get('to')}：受理 {period.get('intake', 0)} 件，办结 "
            f"{period.get('handled', 0)} 件，在办 {figures.get('open', 0)} 件，其中超期 {figures.get('overdue', 0)} 件。")
    notify(recipients=recipients, kind="briefing", title=f"【{title_of(briefing)}】{figures.get('period', '')}",
           body=body, subject=briefing, url=f"/dashboard/briefings/{briefing.pk}/")
    from cityops.core.timeline import timeline_append

    with transaction.atomic():
        Briefing.objects.filter(pk=briefing.pk).update(sent_at=timezone.now(), recipients=len(recipients))
        timeline_append(subject=briefing, action="send", actor_name="worker",
                        params={"recipients": len(recipients),
                                "emails": sum(1 for u in recipients if u.email) if emails_on("briefing") else 0})
    return len(recipients)


def title_of(briefing: Briefing) -> str:
    return f"{briefing.region_name}{KIND_TITLES[briefing.kind]}"


# --- reads, scoped ----------------------------------------------------------------------------------------------
def briefing_list(*, user, kind: str = "", region: str = ""):
    """The briefings the user may read: city-wide roles every one; a region-bound role (a district's command
    centre, a street's or community's staff, a grid worker) those of regions inside their own regions — a district's
    staff their district's and its streets', never the city's or another district's; anyone else none."""
    from cityops.core.scope import is_city_wide

    qs = Briefing.objects.all()
    if not is_city_wide(user):
        if not (user.is_authenticated and user.role_codes & roles.REGION_BOUND_ROLES and user.region_codes):
            return qs.none()
        qs = qs.filter(_or([Q(region_code__startswith=c) for c in user.region_codes if c]), ~Q(region_code=""))
    if kind:
        qs = qs.filter(kind=clean_kind(kind))
    if region:
        qs = qs.filter(region_code=place_of(region).code)
    return qs.order_by("-period_start", "kind", "region_code")


def briefing_get(*, user, pk) -> Briefing:
    row = briefing_list(user=user).filter(pk=pk).first()
    if row is None:
        raise NotFound("未找到简报", "No such briefing", code="briefing_not_found", status=404)
    return row


def clean_format(fmt) -> str:
    if fmt not in ("pdf", "xlsx"):
        raise InvalidInput("格式应为 pdf 或 xlsx", "The format is pdf or xlsx", code="invalid_format")
    return fmt


def file_of(briefing: Briefing, fmt: str) -> tuple[bytes, str, str]:
    """(content, content type, download name) of the briefing's PDF or xlsx."""
    clean_format(fmt)
    name = briefing.pdf_name if fmt == "pdf" else briefing.xlsx_name
    storage = briefing_files()
    if not name or not storage.exists(name):
        raise NotFound("简报文件不存在", "The briefing's file is missing", code="briefing_file_missing", status=404)
    with storage.open(name, "rb") as f:
        content = f.read()
    ctype = "application/pdf" if fmt == "pdf" else XLSX_TYPE
    return content, ctype, f"{title_of(briefing)}-{period_label(briefing.kind, briefing.period_start)}.{fmt}"


# --- the worker's periodic job (tasks.PERIODIC "briefings", every CITYOPS_BRIEFING_INTERVAL seconds) ------------------
from django_tasks import task  # noqa: E402


@task()
def briefing_task() -> dict[str, int]:
    return make_due()
