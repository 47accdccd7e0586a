"""综合评价 (RULES.md §1 "Evaluation", GB/T 30428.4-style): indicators and scores for a date range, counted
from the timeline (core_timelineentry, subject_type "cases.case") with aggregate SQL — one grouped query per
indicator family, never a loop over cases.

What each count is (entries whose `at` lies in the range):
- department X: due = dispatch/claim entries to X − return entries by X; handled = cases with a handle
  entry of X (on time: none of its handle entries in the range was late); closed = cases closed; rework = rework + reopen entries of X;
  extended = extend_approve entries of X; overdue unhandled = cases of X that the sweep marked overdue while
  still in a handling state.
- dispatcher: dispatch entries by the actor (on time: params.on_time); returned = return entries whose
  params.dispatched_by is the actor.
- shift lead: register entries by the actor; voided = void_approve entries whose params.registered_by is the
  actor; close entries by the actor.
- field worker: report entries with source=field by the actor; valid = register entries whose reporter_id is
  the actor + self_handle entries; checks (核实) and verifications (核查/返工) by the actor; missed = registered
  public reports inside the worker's regions / all registered inside them.
- region: registered, public registered, closed, closed on time, resolved at community/street level.

A rate whose denominator is 0 is reported as null and scores as "nothing wrong" (1 for a good-direction
rate, 0 for a bad-direction one).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import BigIntegerField, Count, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityops.accounts.models import OrgUnit
from cityops.cases.models import Case
from cityops.cases.workflow import HANDLING_STATES
from cityops.core.models import TimelineEntry

SUBJECT = "cases.case"
TASK_SUBJECT = "cases.casetask"
LEVEL_LENGTH = {"district": 6, "street": 9, "community": 12, "grid": 14}

DEFAULT_WEIGHTS = {
    "department": {"handle": 30, "on_time": 20, "rework": 20, "overdue": 20, "extension": 10},
    "dispatcher": {"volume": 20, "on_time": 40, "accuracy": 40},
    "shift_lead": {"register_on_time": 25, "register_accuracy": 40, "close_on_time": 35},
    "field_worker": {"valid": 40, "check_on_time": 20, "verify_on_time": 20, "missed": 20},
}


def weights(kind: str) -> dict:
    custom = getattr(settings, "CITYOPS_CASE_EVAL_WEIGHTS", {}).get(kind, {})
    return {**DEFAULT_WEIGHTS[kind], **custom}


def grade(score: float | None) -> str:
    if score is None:
        return ""
    for letter, floor in (("A", 90), ("B", 75), ("C", 60), ("D", 40)):
        if score >= floor:
            return letter
    return "E"


def rate(part: int, whole: int) -> float | None:
    if not whole:
        return None
    return min(1.0, max(0.0, part / whole))


def _rounded(rates: dict) -> dict:
    return {k: (None if v is None else round(v, 4)) for k, v in rates.items()}


def _good(value: float | None) -> float:
    return 1.0 if value is None else value


def _bad(value: float | None) -> float:
    return 0.0 if value is None else value


def period(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in local time: both days inclusive."""
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tz),
        datetime.combine(end + timedelta(days=1), time.min, tz),
    )


def _entries(start: date, end: date, subject: str = SUBJECT):
    lo, hi = period(start, end)
    return TimelineEntry.objects.filter(subject_type=subject, at__gte=lo, at__lt=hi)


# --- departments -------------------------------------------------------------------------------------------
def evaluate_departments(*, start: date, end: date) -> list[dict]:
    entries = _entries(start, end)
    counts = (
        entries.filter(action__in=("dispatch", "claim", "return", "handle", "close", "rework", "reopen", "extend_approve"))
        .values(dept=KT("params__dept"))
        .annotate(
            assigned=Count("id", filter=Q(action__in=("dispatch", "claim"))),
            returned=Count("id", filter=Q(action="return")),
            handled=Count("subject_id", distinct=True, filter=Q(action="handle")),
            handled_late=Count("subject_id", distinct=True, filter=Q(action="handle", params__on_time=False)),
            closed=Count("subject_id", distinct=True, filter=Q(action="close")),
            reworked=Count("id", filter=Q(action__in=("rework", "reopen"))),
            extended=Count("id", filter=Q(action="extend_approve")),
        )
    )
    overdue_ids = (
        entries.filter(action="overdue", from_state__in=HANDLING_STATES)
        .annotate(case_id=Cast("subject_id", BigIntegerField()))
        .values("case_id")
    )
    overdue = dict(
        Case.objects.filter(pk__in=overdue_ids, lead_department__isnull=False)
        .values_list("lead_department__code")
        .annotate(n=Count("id"))
    )
    tasks = {
        row["dept"]: row
        for row in _entries(start, end, TASK_SUBJECT)
        .filter(action__in=("task_open", "task_done"))
        .values(dept=KT("params__dept"))
        .annotate(
            tasks_assigned=Count("id", filter=Q(action="task_open")),
            tasks_done=Count("id", filter=Q(action="task_done")),
            tasks_done_on_time=Count("id", filter=Q(action="task_done", params__on_time=True)),
        )
    }
    rows = {r["dept"]: dict(r) for r in counts if r["dept"]}
    for code in set(overdue) | set(tasks):
        rows.setdefault(code, {"dept": code, "assigned": 0, "returned": 0, "handled": 0, "handled_late": 0,
                               "closed": 0, "reworked": 0, "extended": 0})
    names = dict(OrgUnit.objects.filter(code__in=list(rows)).values_list("code", "name"))
    w = weights("department")
    out = []
    for code, r in rows.items():
        due = max(0, r["assigned"] - r["returned"])
        r["handled_on_time"] = max(0, r.get("handled", 0) - r.pop("handled_late", 0))
        t = tasks.get(code, {})
        rates = {
            "handle_rate": rate(r["handled"], due),
            "on_time_rate": rate(r["handled_on_time"], due),
            "close_rate": rate(r["closed"], due),
            "rework_rate": rate(r["reworked"], due),
            "overdue_rate": rate(overdue.get(code, 0), due),
            "extension_rate": rate(r["extended"], due),
        }
        score = None
        if due:
            score = round(
                _bad(rates["handle_rate"]) * w["handle"]
                + _bad(rates["on_time_rate"]) * w["on_time"]
                + (1 - _bad(rates["rework_rate"])) * w["rework"]
                + (1 - _bad(rates["overdue_rate"])) * w["overdue"]
                + (1 - _bad(rates["extension_rate"])) * w["extension"],
                2,
            )
        out.append({
            "department": code, "name": names.get(code, code), "due": due, "assigned": r["assigned"],
            "returned": r["returned"], "handled": r["handled"], "handled_on_time": r["handled_on_time"],
            "closed": r["closed"], "reworked": r["reworked"], "overdue_unhandled": overdue.get(code, 0),
            "extended": r["extended"], **_rounded(rates),
            "tasks_assigned": t.get("tasks_assigned", 0), "tasks_done": t.get("tasks_done", 0),
            "tasks_done_on_time": t.get("tasks_done_on_time", 0),
            "score": score, "grade": grade(score),
        })
    return _ranked(out)


def _ranked(rows: list[dict]) -> list[dict]:
    rows.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0)))
    for n, row in enumerate(rows, start=1):
        row["rank"] = n if row["score"] is not None else None
    return rows


def _user_names(ids) -> dict[int, str]:
    users = get_user_model().objects.filter(pk__in=[i for i in ids if i])
    return {u.pk: (u.get_full_name() or u.first_name or u.username) for u in users}


# --- dispatchers -------------------------------------------------------------------------------------------
def evaluate_dispatchers(*, start: date, end: date) -> list[dict]:
    entries = _entries(start, end)
    dispatched = {
        r["actor_id"]: r
        for r in entries.filter(action="dispatch", actor_id__isnull=False)
        .values("actor_id")
        .annotate(n=Count("id"), on_time=Count("id", filter=Q(params__on_time=True)))
    }
    returned = dict(
        entries.filter(action="return")
        .annotate(by=Cast(KT("params__dispatched_by"), BigIntegerField()))
        .filter(by__isnull=False)
        .values_list("by")
        .annotate(n=Count("id"))
    )
    top = max((r["n"] for r in dispatched.values()), default=0)
    names = _user_names(set(dispatched) | set(returned))
    w = weights("dispatcher")
    out = []
    for uid in set(dispatched) | set(returned):
        n = dispatched.get(uid, {}).get("n", 0)
        on_time = dispatched.get(uid, {}).get("on_time", 0)
        back = returned.get(uid, 0)
        rates = {
            "volume_rate": rate(n, top),
            "on_time_rate": rate(on_time, n),
            "accuracy_rate": rate(max(0, n - back), n),
        }
        score = round(_bad(rates["volume_rate"]) * w["volume"] + _good(rates["on_time_rate"]) * w["on_time"]
                      + _good(rates["accuracy_rate"]) * w["accuracy"], 2) if n else None
        out.append({"user_id": uid, "name": names.get(uid, str(uid)), "dispatched": n, "dispatched_on_time": on_time,
                    "returned": back, **_rounded(rates), "score": score, "grade": grade(score)})
    return _ranked(out)


# --- shift leads -------------------------------------------------------------------------------------------
def evaluate_shift_leads(*, start: date, end: date) -> list[dict]:
    entries = _entries(start, end)
    by_actor = {
        r["actor_id"]: r
        for r in entries.filter(action__in=("register", "close"), actor_id__isnull=False)
        .values("actor_id")
        .annotate(
            registered=Count("id", filter=Q(action="register")),
            registered_on_time=Count("id", filter=Q(action="register", params__on_time=True)),
            closed=Count("id", filter=Q(action="close")),
            closed_on_time=Count("id", filter=Q(action="close", params__on_time=True)),
        )
    }
    voided = dict(
        entries.filter(action="void_approve")
        .annotate(by=Cast(KT("params__registered_by"), BigIntegerField()))
        .filter(by__isnull=False)
        .values_list("by")
        .annotate(n=Count("id"))
    )
    ids = set(by_actor) | set(voided)
    names = _user_names(ids)
    w = weights("shift_lead")
    out = []
    for uid in ids:
        r = by_actor.get(uid, {"registered": 0, "registered_on_time": 0, "closed": 0, "closed_on_time": 0})
        v = voided.get(uid, 0)
        rates = {
            "register_on_time_rate": rate(r["registered_on_time"], r["registered"]),
            "register_accuracy_rate": rate(max(0, r["registered"] - v), r["registered"]),
            "close_on_time_rate": rate(r["closed_on_time"], r["closed"]),
        }
        score = None
        if r["registered"] or r["closed"]:
            score = round(_good(rates["register_on_time_rate"]) * w["register_on_time"]
                          + _good(rates["register_accuracy_rate"]) * w["register_accuracy"]
                          + _good(rates["close_on_time_rate"]) * w["close_on_time"], 2)
        out.append({"user_id": uid, "name": names.get(uid, str(uid)), **r, "voided": v, **_rounded(rates),
                    "score": score, "grade": grade(score)})
    return _ranked(out)


# --- field workers -----------------------------------------------------------------------------------------
def _by_region(entries, length: int, **extra) -> dict[str, dict]:
    return {
        r["prefix"]: r
        for r in entries.annotate(prefix=Substr(KT("params__region"), 1, length))
        .values("prefix")
        .annotate(**extra)
    }


def evaluate_field_workers(*, start: date, end: date) -> list[dict]:
    from cityops.core import roles

    entries = _entries(start, end)
    reports = dict(
        entries.filter(action="report", params__source="field", actor_id__isnull=False)
        .values_list("actor_id").annotate(n=Count("id"))
    )
    valid = defaultdict(int)
    for uid, n in (
        entries.filter(action="register")
        .annotate(by=Cast(KT("params__reporter_id"), BigIntegerField()))
        .filter(by__isnull=False).values_list("by").annotate(n=Count("id"))
    ):
        valid[uid] += n
    for uid, n in entries.filter(action="self_handle", actor_id__isnull=False).values_list("actor_id").annotate(n=Count("id")):
        valid[uid] += n
    checks = {
        r["actor_id"]: r
        for r in entries.filter(action__in=("check", "verify", "rework"), actor_id__isnull=False)
        .values("actor_id")
        .annotate(
            checks=Count("id", filter=Q(action="check")),
            checks_on_time=Count("id", filter=Q(action="check", params__on_time=True)),
            verifications=Count("id", filter=Q(action__in=("verify", "rework"))),
            verifications_on_time=Count("id", filter=Q(action__in=("verify", "rework"), params__on_time=True)),
        )
    }
    # Registered cases per grid (14-digit prefix), public ones apart: the worker's share is summed over their
    # regions below — a loop over grids, not over cases.
    per_grid = _by_region(
        entries.filter(action="register"), 14,
        registered=Count("id"), public=Count("id", filter=Q(params__public=True)),
    )
    # Holders of the role only (RULES.md §1 "Rankings"): `valid` counts registered reports by reporter id, and a
    # resident who reported is no field worker — their login must not appear in a ranking or its export.
    workers = get_user_model().objects.filter(groups__name=roles.GRID_WORKER).distinct()
    w = weights("field_worker")
    out = []
    for user in workers:
        uid = user.pk
        regions = [c for c in (user.region_codes or []) if c]
        in_regions = [r for p, r in per_grid.items() if p and any(p.startswith(c) for c in regions)]
        registered_here = sum(r["registered"] for r in in_regions)
        public_here = sum(r["public"] for r in in_regions)
        c = checks.get(uid, {"checks": 0, "checks_on_time": 0, "verifications": 0, "verifications_on_time": 0})
        n_reports = reports.get(uid, 0)
        rates = {
            "valid_rate": rate(valid.get(uid, 0), n_reports),
            "check_on_time_rate": rate(c["checks_on_time"], c["checks"]),
            "verify_on_time_rate": rate(c["verifications_on_time"], c["verifications"]),
            "missed_rate": rate(public_here, registered_here),
        }
        active = n_reports or c["checks"] or c["verifications"] or registered_here
        score = None
        if active:
            score = round(_bad(rates["valid_rate"]) * w["valid"] + _good(rates["check_on_time_rate"]) * w["check_on_time"]
                          + _good(rates["verify_on_time_rate"]) * w["verify_on_time"]
                          + (1 - _bad(rates["missed_rate"])) * w["missed"], 2)
        out.append({"user_id": uid, "name": user.first_name or user.username,
                    "reports": n_reports, "valid_reports": valid.get(uid, 0), **c,
                    "registered_in_regions": registered_here, "public_in_regions": public_here, **_rounded(rates),
                    "score": score, "grade": grade(score)})
    return _ranked(out)


# --- regions -----------------------------------------------------------------------------------------------
def evaluate_regions(*, start: date, end: date, level: str = "district") -> list[dict]:
    from cityops.core.errors import InvalidInput

    if level not in LEVEL_LENGTH:
        raise InvalidInput("层级应为 district/street/community/grid", "level must be district, street, community or grid",
                           code="invalid_level")
    n = LEVEL_LENGTH[level]
    entries = _entries(start, end)
    registered = _by_region(entries.filter(action="register"), n, registered=Count("id"),
                            public=Count("id", filter=Q(params__public=True)))
    closed = _by_region(entries.filter(action="close"), n, closed=Count("id"),
                        closed_on_time=Count("id", filter=Q(params__case_on_time=True)))
    local = _by_region(entries.filter(action="handle", params__level__in=["community", "street"]), n,
                       resolved_locally=Count("id"))
    self_handled = _by_region(entries.filter(action="self_handle"), n, self_handled=Count("id"))
    codes = {c for c in set(registered) | set(closed) | set(local) | set(self_handled) if c and len(c) == n}
    try:
        from cityops.geo.models import Region

        names = dict(Region.objects.filter(code__in=list(codes)).values_list("code", "name"))
    except Exception:  # geography not loaded: codes only
        names = {}
    out = []
    for code in codes:
        reg = registered.get(code, {}).get("registered", 0)
        pub = registered.get(code, {}).get("public", 0)
        cl = closed.get(code, {}).get("closed", 0)
        cl_on_time = closed.get(code, {}).get("closed_on_time", 0)
        out.append({
            "region": code, "name": names.get(code, code), "level": level, "registered": reg, "public_reports": pub,
            "closed": cl, "closed_on_time": cl_on_time,
            "resolved_locally": local.get(code, {}).get("resolved_locally", 0),
            "self_handled": self_handled.get(code, {}).get("self_handled", 0),
            **_rounded({"public_report_rate": rate(pub, reg), "close_rate": rate(cl, reg),
                        "close_on_time_rate": rate(cl_on_time, reg)}),
        })
    out.sort(key=lambda r: r["region"])
    return out


# --- hotline work orders (12345) ----------------------------------------------------------------------------
def evaluate_hotline(*, start: date, end: date) -> list[dict]:
    """Hotline indicators per department (RULES.md §1): 及时接收率 (accepted within the limit), 回退率 (returns
    per dispatch), 重办率 (rework/reopen per handled case), 按时办结率 (handled cases never late), 满意度
    (satisfied follow-ups per follow-up)."""
    rows = (
        _entries(start, end)
        .filter(params__source="hotline",
                action__in=("dispatch", "accept", "return", "handle", "rework", "reopen", "follow_up"))
        .values(dept=KT("params__dept"))
        .annotate(
            dispatched=Count("id", filter=Q(action="dispatch")),
            accepted=Count("id", filter=Q(action="accept")),
            accepted_on_time=Count("id", filter=Q(action="accept", params__on_time=True)),
            returned=Count("id", filter=Q(action="return")),
            handled=Count("subject_id", distinct=True, filter=Q(action="handle")),
            handled_late=Count("subject_id", distinct=True, filter=Q(action="handle", params__on_time=False)),
            redone=Count("id", filter=Q(action__in=("rework", "reopen"))),
            satisfied=Count("id", filter=Q(action="follow_up")),
            unsatisfied=Count("id", filter=Q(action="reopen")),
        )
    )
    out = []
    for r in rows:
        if not r["dept"]:
            continue
        out.append({
            "department": r["dept"], **{k: v for k, v in r.items() if k != "dept"},
            **_rounded({
                "timely_accept_rate": rate(r["accepted_on_time"], r["accepted"]),
                "return_rate": rate(r["returned"], r["dispatched"]),
                "redo_rate": rate(r["redone"], r["handled"]),
                "on_time_rate": rate(r["handled"] - r["handled_late"], r["handled"]),
                "satisfaction_rate": rate(r["satisfied"], r["satisfied"] + r["unsatisfied"]),
            }),
        })
    out.sort(key=lambda r: r["department"])
    return out


# --- the evaluations, for the API and the web pages alike ----------------------------------------------------
@dataclass(frozen=True)
class Evaluation:
    """One evaluation: its name in the UI, the function computing it, the columns a table of it shows (row key,
    heading, format — "rate" is a percentage), what its rows are (departments, named staff by `user_id`, or
    regions: who may read them, cases.selectors.evaluation_rows), whether its rows carry a score and a grade,
    whether it takes a region level."""

    label: str
    compute: Callable[..., list[dict]]
    columns: tuple[tuple[str, str, str], ...]
    rows_are: str  # DEPARTMENTS | STAFF | REGIONS
    scored: bool = False
    by_level: bool = False


DEPARTMENTS, STAFF, REGIONS = "departments", "staff", "regions"


EVALUATIONS: dict[str, Evaluation] = {
    "departments": Evaluation(_("专业部门"), evaluate_departments, (
        ("name", _("部门"), ""), ("due", _("应处置"), ""), ("handled", _("已处置"), ""),
        ("handle_rate", _("处置率"), "rate"), ("on_time_rate", _("按期处置率"), "rate"), ("close_rate", _("结案率"), "rate"),
        ("rework_rate", _("返工率"), "rate"), ("overdue_rate", _("超期待处置率"), "rate"),
        ("extension_rate", _("延期率"), "rate"),
    ), DEPARTMENTS, scored=True),
    "dispatchers": Evaluation(_("派遣员"), evaluate_dispatchers, (
        ("name", _("派遣员"), ""), ("dispatched", _("派遣数"), ""), ("returned", _("被退回"), ""),
        ("on_time_rate", _("按时派遣率"), "rate"), ("accuracy_rate", _("准确派遣率"), "rate"),
    ), STAFF, scored=True),
    "shift_leads": Evaluation(_("值班长"), evaluate_shift_leads, (
        ("name", _("值班长"), ""), ("registered", _("立案数"), ""), ("voided", _("作废数"), ""), ("closed", _("结案数"), ""),
        ("register_on_time_rate", _("按时立案率"), "rate"), ("register_accuracy_rate", _("准确立案率"), "rate"),
        ("close_on_time_rate", _("按时结案率"), "rate"),
    ), STAFF, scored=True),
    "field_workers": Evaluation(_("网格员"), evaluate_field_workers, (
        ("name", _("网格员"), ""), ("reports", _("上报数"), ""), ("valid_reports", _("有效上报"), ""),
        ("valid_rate", _("有效上报率"), "rate"), ("check_on_time_rate", _("按时核实率"), "rate"),
        ("verify_on_time_rate", _("按时核查率"), "rate"), ("missed_rate", _("漏报率"), "rate"),
    ), STAFF, scored=True),
    "regions": Evaluation(_("区域"), evaluate_regions, (
        ("name", _("区域"), ""), ("region", _("编码"), ""), ("registered", _("立案数"), ""),
        ("public_reports", _("公众举报"), ""), ("public_report_rate", _("监督举报率"), "rate"),
        ("close_rate", _("结案率"), "rate"), ("close_on_time_rate", _("按期结案率"), "rate"),
        ("resolved_locally", _("街道社区办结"), ""), ("self_handled", _("自处理"), ""),
    ), REGIONS, by_level=True),
    "hotline": Evaluation(_("12345 热线"), evaluate_hotline, (
        ("department", _("部门"), ""), ("dispatched", _("派单数"), ""), ("handled", _("办结数"), ""),
        ("timely_accept_rate", _("及时接收率"), "rate"), ("return_rate", _("回退率"), "rate"),
        ("redo_rate", _("重办率"), "rate"), ("on_time_rate", _("按时办结率"), "rate"),
        ("satisfaction_rate", _("满意度"), "rate"),
    ), DEPARTMENTS),
}


def evaluate(kind: str, *, start: date, end: date, level: str = "district") -> list[dict]:
    """The rows of evaluation `kind` (a key of EVALUATIONS) for the date range; `level` for region evaluations."""
    chosen = EVALUATIONS[kind]
    return chosen.compute(start=start, end=end, **({"level": level} if chosen.by_level else {}))


# --- export ------------------------------------------------------------------------------------------------
def to_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return "\ufeff" + buffer.getvalue()  # BOM: Excel opens UTF-8 Chinese correctly


def to_xlsx(rows: list[dict], *, title: str = "evaluation") -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    if rows:
        ws.append(list(rows[0]))
        for row in rows:
            ws.append([v if not isinstance(v, list | dict) else str(v) for v in row.values()])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


__all__ = [
    "EVALUATIONS", "Evaluation", "evaluate", "evaluate_departments", "evaluate_dispatchers", "evaluate_shift_leads", "evaluate_field_workers",
    "evaluate_regions", "evaluate_hotline", "grade", "to_csv", "to_xlsx",
]
