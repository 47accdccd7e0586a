"""综合评价 (RULES.md §1 "Evaluation", GB/T 30428.4-style): indicators and scores for a date range, counted
from the timeline (core_timelineentry, subject_type "cases.case") with aggregate SQL — one grouped query per
indicator family, never a loop over cases.

Attribution (RULES.md §1): every step is charged to whoever held it when it was due. The engine stamps the
department holding the case (`dept`) and whether the step was on time on each transition's entry, so a count
grouped by the stamp charges the holder of the time, not the case's department now.

What each count is (entries whose `at` lies in the range):
- department X: due = dispatch/claim entries to X − return entries by X, plus the sub-tasks (协办) opened for X
  − those released; handled = cases with a handle entry of X + sub-tasks X finished (on time: no handle entry of
  the case in the range was late / the sub-task was done in its limit); closed = cases closed; rework = rework +
  reopen entries of X; extended = extend_approve entries of X; overdue unhandled (超期待处置) = cases that were
  overdue and still unhandled at the end of the period, charged to the department that held the case at its
  deadline (`_overdue_unhandled`). 处置率 and 按期处置率 count sub-tasks; the other rates are over the cases X led.
- dispatcher: dispatch entries by the actor (on time: params.on_time); returned = return entries whose
  params.dispatched_by is the actor.
- shift lead: register entries by the actor; voided = void_approve entries whose params.registered_by is the
  actor; close entries by the actor.
- field worker: report entries with source=field by the actor; valid = register entries whose reporter_id is
  the actor + self_handle entries + their reports merged into another case before registration (a duplicate of
  a real problem is a valid report); checks (核实) and verifications (核查/返工) by the actor; missed = registered
  public reports inside the worker's regions / all registered inside them.
- region: registered, public registered, closed, closed on time, resolved at community/street level; reports
  merged into a case of the region count as supervision reports of that (kept) case (RULES.md §1 Duplicates).

Rankings list only holders of the role (a unit: departments among departments, streets among streets,
communities among communities); a unit or person with fewer than MIN_DUE due items (settings.CITYOPS_CASE_EVAL_MIN_DUE,
default 5) gets no grade and no rank (样本不足). A rate whose denominator is 0 is reported as null and scores as "nothing
wrong" (1 for a good-direction rate, 0 for a bad-direction one).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import BigIntegerField, Count, Exists, OuterRef, Q, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Substr
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cityops.accounts.models import OrgUnit
from cityops.cases.levels import local_rate_by_region
from cityops.cases.models import Case
from cityops.cases.supervision.selectors import received_by_department
from cityops.cases.workflow import CASE_WORKFLOW, DISPATCH, FIELD, HANDLING_STATES
from cityops.core import roles
from cityops.core import workflow as wf
from cityops.core.models import TimelineEntry

SUBJECT = "cases.case"
TASK_SUBJECT = "cases.casetask"
LEVEL_LENGTH = {"district": 6, "street": 9, "community": 12, "grid": 14}

DEFAULT_WEIGHTS = {
    "department": {"handle": 30, "on_time": 20, "rework": 20, "overdue": 20, "extension": 10},
    "dispatcher": {"volume": 20, "on_time": 40, "accuracy": 40},
    "shift_lead": {"register_on_time": 25, "register_accuracy": 40, "close_on_time": 35},
    "field_worker": {"valid": 40, "check_on_time": 20, "verify_on_time": 20, "missed": 20},
    "region": {"close": 40, "close_on_time": 40, "public_report": 20},
}

INSUFFICIENT = _("样本不足")  # what a row below the minimum of due items shows for its grade

# An overdue spell of a case in the department's hands ends with the first step that gives the case a new or a
# later deadline, or takes it out of the department's hands: taken from the workflow table — the transitions out
# of a handling state that restart or extend the clock (签收, 退回, 处置完毕, 上报上级, 批准延期). Steps that keep or
# pause the clock (申请延期, 挂账…) do not end it. (An extension granted after the deadline that still leaves the
# case late ends the spell too: the engine records no new lapse for it.)
ENDS_OVERDUE = tuple(sorted({
    t.action for t in CASE_WORKFLOW.transitions
    if set(t.sources) & set(HANDLING_STATES) and t.clock in (wf.CLOCK_RESTART, wf.CLOCK_EXTEND)
}))


def weights(kind: str) -> dict:
    custom = getattr(settings, "CITYOPS_CASE_EVAL_WEIGHTS", {}).get(kind, {})
    return {**DEFAULT_WEIGHTS[kind], **custom}


MIN_DUE = 5  # fewer due items in the period: no grade, no rank (样本不足); settings.CITYOPS_CASE_EVAL_MIN_DUE


def min_due() -> int:
    return int(getattr(settings, "CITYOPS_CASE_EVAL_MIN_DUE", MIN_DUE))


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


def _count_by_user_param(entries, key: str) -> dict[int, int]:
    """Entries counted per the user id in params[key]. A missing key or a JSON null is no one: read as text on
    SQLite a JSON null is 'null', which a cast to integer turns into 0 — a phantom user 0."""
    rows = entries.exclude(**{f"params__{key}": None}).values(by=KT(f"params__{key}")).annotate(n=Count("id"))
    out: dict[int, int] = defaultdict(int)
    for row in rows:
        if row["by"] not in (None, "", "null"):
            out[int(row["by"])] += row["n"]
    return dict(out)


def _ranked(rows: list[dict], *, due_key: str, group: Callable[[dict], int] = lambda r: 0) -> list[dict]:
    """Rank the rows with a score within their group (a unit's kind, in the group's order), best first, equal
    scores sharing a rank; a row with fewer than `min_due()` due items is shown without grade or rank (样本不足)
    after the ranked ones of its group."""
    floor = min_due()
    for row in rows:
        row["sample_ok"] = row[due_key] >= floor
        if not row["sample_ok"]:
            row["grade"] = ""
        row["rank"] = None
    rows.sort(key=lambda r: (group(r), not r["sample_ok"] or r["score"] is None, -(r["score"] or 0),
                             -r[due_key], str(r["name"])))
    last: dict[int, tuple] = {}
    position: dict[int, int] = defaultdict(int)
    for row in rows:
        if not row["sample_ok"] or row["score"] is None:
            continue
        key = group(row)
        position[key] += 1
        previous = last.get(key)
        row["rank"] = previous[1] if previous and previous[0] == row["score"] else position[key]
        last[key] = (row["score"], row["rank"])
    return rows


def _unit_names(codes) -> dict[str, dict]:
    """Name (English when the page is English and the unit has one) and kind of each unit code."""
    english = (get_language() or "").startswith("en")
    return {
        code: {"name": (name_en if english and name_en else name), "kind": kind}
        for code, name, name_en, kind in OrgUnit.objects.filter(code__in=list(codes)).values_list(
            "code", "name", "name_en", "kind")
    }


def _person_name(user) -> str:
    # The display name, as everywhere else (cases.privacy.staff_names); the login only for an account without one.
    return user.first_name or user.username


def _holders(role_codes) -> list:
    """Holders of a role (a ranking lists no one else: an operator is no shift lead, a resident no grid worker)."""
    return list(get_user_model().objects.filter(groups__name__in=list(role_codes)).distinct().order_by("pk"))


# --- departments -------------------------------------------------------------------------------------------
# A unit is ranked among units of its kind: departments (专业部门), then street offices, then community committees.
UNIT_KIND_ORDER = {OrgUnit.Kind.DEPARTMENT: 0, OrgUnit.Kind.STREET: 1, OrgUnit.Kind.COMMUNITY: 2}


def _overdue_unhandled(hi: datetime) -> dict[str, int]:
    """超期待处置 (RULES.md §1): cases overdue and still unhandled at the end of the period `hi` — an overdue
    entry of the sweep from a handling state before `hi` whose spell no step in ENDS_OVERDUE ended before `hi` —
    per department that held the case at its deadline: the department stamped on the case's last entry before the
    lapse (the step that put the case in its hands or last acted on it; the holder cannot change without a step,
    and a step restarts the clock)."""
    case_entries = TimelineEntry.objects.filter(subject_type=SUBJECT, subject_id=OuterRef("subject_id"))
    ended = case_entries.filter(seq__gt=OuterRef("seq"), at__lt=hi, action__in=ENDS_OVERDUE)
    holder = (
        case_entries.filter(seq__lt=OuterRef("seq"), params__has_key="dept").exclude(params__dept="")
        .order_by("-seq").values(dept=KT("params__dept"))[:1]
    )
    rows = (
        TimelineEntry.objects.filter(subject_type=SUBJECT, action="overdue", from_state__in=HANDLING_STATES, at__lt=hi)
        .exclude(Exists(ended))
        .annotate(holder=Subquery(holder))
        .values("holder")
        .annotate(n=Count("subject_id", distinct=True))
    )
    return {row["holder"]: row["n"] for row in rows if row["holder"]}


def evaluate_departments(*, start: date, end: date) -> list[dict]:
    entries = _entries(start, end)
    counts = (
        entries.filter(action__in=("dispatch", "claim", "return", "handle", "close", "rework", "reopen", "extend_approve"))
        .values(dept=KT("params__dept"))
        .annotate(
            assigned=Count("id", filter=Q(action__in=("dispatch", "claim"))),
            returned=Count("id", filter=Q(action="return")),
            cases_handled=Count("subject_id", distinct=True, filter=Q(action="handle")),
            handled_late=Count("subject_id", distinct=True, filter=Q(action="handle", params__on_time=False)),
            closed=Count("subject_id", distinct=True, filter=Q(action="close")),
            reworked=Count("id", filter=Q(action__in=("rework", "reopen"))),
            extended=Count("id", filter=Q(action="extend_approve")),
        )
    )
    overdue = _overdue_unhandled(period(start, end)[1])
    # 一事联办: a sub-task is due from its assisting department (RULES.md §1), released ones are not.
    tasks = {
        row["dept"]: row
        for row in _entries(start, end, TASK_SUBJECT)
        .filter(action__in=("task_open", "task_release", "task_done"))
        .values(dept=KT("params__dept"))
        .annotate(
            opened=Count("id", filter=Q(action="task_open")),
            released=Count("id", filter=Q(action="task_release")),
            done=Count("id", filter=Q(action="task_done")),
            done_on_time=Count("id", filter=Q(action="task_done", params__on_time=True)),
        )
    }
    empty = {"assigned": 0, "returned": 0, "cases_handled": 0, "handled_late": 0, "closed": 0, "reworked": 0,
             "extended": 0}
    rows = {r["dept"]: dict(r) for r in counts if r["dept"]}
    for code in set(overdue) | set(tasks):
        if code:
            rows.setdefault(code, {"dept": code, **empty})
    units = _unit_names(rows)
    w = weights("department")
    out = []
    for code, r in rows.items():
        t = tasks.get(code, {})
        cases_due = max(0, r["assigned"] - r["returned"])
        cases_on_time = max(0, r["cases_handled"] - r["handled_late"])
        tasks_due = max(0, t.get("opened", 0) - t.get("released", 0))
        due = cases_due + tasks_due
        handled = r["cases_handled"] + t.get("done", 0)
        handled_on_time = cases_on_time + t.get("done_on_time", 0)
        late = overdue.get(code, 0)
        rates = {
            "handle_rate": rate(handled, due),
            "on_time_rate": rate(handled_on_time, due),
            "close_rate": rate(r["closed"], cases_due),
            "rework_rate": rate(r["reworked"], cases_due),
            "overdue_rate": rate(late, cases_due),
            "extension_rate": rate(r["extended"], cases_due),
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
        unit = units.get(code, {"name": code, "kind": OrgUnit.Kind.DEPARTMENT})
        out.append({
            "department": code, "name": unit["name"], "unit_kind": unit["kind"],
            "due": due, "cases_due": cases_due, "tasks_due": tasks_due,
            "assigned": r["assigned"], "returned": r["returned"],
            "handled": handled, "handled_on_time": handled_on_time,
            "cases_handled": r["cases_handled"], "cases_handled_on_time": cases_on_time,
            "tasks_done": t.get("done", 0), "tasks_done_on_time": t.get("done_on_time", 0),
            "closed": r["closed"], "reworked": r["reworked"], "overdue_unhandled": late, "extended": r["extended"],
            **_rounded(rates), "score": score, "grade": grade(score),
        })
    return _ranked(out, due_key="due", group=lambda r: UNIT_KIND_ORDER.get(r["unit_kind"], len(UNIT_KIND_ORDER)))


# --- dispatchers -------------------------------------------------------------------------------------------
def evaluate_dispatchers(*, start: date, end: date) -> list[dict]:
    entries = _entries(start, end)
    dispatched = {
        r["actor_id"]: r
        for r in entries.filter(action="dispatch", actor_id__isnull=False)
        .values("actor_id")
        .annotate(n=Count("id"), on_time=Count("id", filter=Q(params__on_time=True)))
    }
    returned = _count_by_user_param(entries.filter(action="return"), "dispatched_by")
    people = _holders(DISPATCH)  # the city's and the districts' dispatchers
    top = max((dispatched.get(u.pk, {}).get("n", 0) for u in people), default=0)
    w = weights("dispatcher")
    out = []
    for user in people:
        n = dispatched.get(user.pk, {}).get("n", 0)
        on_time = dispatched.get(user.pk, {}).get("on_time", 0)
        back = returned.get(user.pk, 0)
        rates = {
            "volume_rate": rate(n, top),
            "on_time_rate": rate(on_time, n),
            "accuracy_rate": rate(max(0, n - back), n),
        }
        score = round(_bad(rates["volume_rate"]) * w["volume"] + _good(rates["on_time_rate"]) * w["on_time"]
                      + _good(rates["accuracy_rate"]) * w["accuracy"], 2) if n else None
        out.append({"user_id": user.pk, "name": _person_name(user), "dispatched": n, "dispatched_on_time": on_time,
                    "returned": back, **_rounded(rates), "score": score, "grade": grade(score)})
    return _ranked(out, due_key="dispatched")


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
    voided = _count_by_user_param(entries.filter(action="void_approve"), "registered_by")
    w = weights("shift_lead")
    out = []
    for user in _holders({roles.SHIFT_LEAD}):
        r = {k: v for k, v in by_actor.get(user.pk, {}).items() if k != "actor_id"} or {
            "registered": 0, "registered_on_time": 0, "closed": 0, "closed_on_time": 0}
        v = voided.get(user.pk, 0)
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
        out.append({"user_id": user.pk, "name": _person_name(user), **r, "voided": v,
                    "steps": r["registered"] + r["closed"], **_rounded(rates), "score": score, "grade": grade(score)})
    return _ranked(out, due_key="steps")


# --- field workers -----------------------------------------------------------------------------------------
def _by_region(entries, length: int, region=None, **extra) -> dict[str, dict]:
    return {
        r["prefix"]: r
        for r in entries.annotate(prefix=Substr(region if region is not None else KT("params__region"), 1, length))
        .values("prefix")
        .annotate(**extra)
    }


def _merged_reports(entries):
    """Reports merged into another case (合并) in the range without being registered first — a registered
    duplicate was already counted at its own registration."""
    return entries.filter(action="merge").exclude(from_state="registered")


def evaluate_field_workers(*, start: date, end: date) -> list[dict]:
    entries = _entries(start, end)
    reports = dict(
        entries.filter(action="report", params__source="field", actor_id__isnull=False)
        .values_list("actor_id").annotate(n=Count("id"))
    )
    valid = defaultdict(int, _count_by_user_param(entries.filter(action="register"), "reporter_id"))
    for uid, n in entries.filter(action="self_handle", actor_id__isnull=False).values_list("actor_id").annotate(n=Count("id")):
        valid[uid] += n
    merged_ids = _merged_reports(entries).annotate(case_id=Cast("subject_id", BigIntegerField())).values("case_id")
    for uid, n in (Case.objects.filter(pk__in=merged_ids, reporter__isnull=False)
                   .values_list("reporter_id").annotate(n=Count("id"))):
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
    w = weights("field_worker")
    out = []
    for user in _holders(FIELD):
        uid = user.pk
        regions = [c for c in (user.region_codes or []) if c]
        in_regions = [r for p, r in per_grid.items() if p and any(p.startswith(c) for c in regions)]
        registered_here = sum(r["registered"] for r in in_regions)
        public_here = sum(r["public"] for r in in_regions)
        c = checks.get(uid, {"checks": 0, "checks_on_time": 0, "verifications": 0, "verifications_on_time": 0})
        c = {k: v for k, v in c.items() if k != "actor_id"}
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
        out.append({"user_id": uid, "name": _person_name(user),
                    "reports": n_reports, "valid_reports": valid.get(uid, 0), **c,
                    "steps": n_reports + c["checks"] + c["verifications"],
                    "registered_in_regions": registered_here, "public_in_regions": public_here, **_rounded(rates),
                    "score": score, "grade": grade(score)})
    return _ranked(out, due_key="steps")


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
    # Merged reports are supervision reports of the kept case (RULES.md §1 Duplicates): counted in its region.
    kept_region = Case.objects.filter(code=OuterRef("into")).values("region_code")[:1]
    merged = _by_region(
        _merged_reports(entries).annotate(into=KT("params__into")), n, region=Subquery(kept_region),
        merged=Count("id"), merged_public=Count("id", filter=Q(params__source__in=list(Case.PUBLIC_SOURCES))),
    )
    codes = {c for c in set(registered) | set(closed) | set(local) | set(self_handled) | set(merged) if c and len(c) == n}
    try:
        from cityops.geo.models import Region

        found = {code: (name, parent) for code, name, parent in
                 Region.objects.filter(code__in=list(codes)).values_list("code", "name", "parent__name")}
    except Exception:  # geography not loaded: codes only
        found = {}
    out = []
    for code in codes:
        reg = registered.get(code, {}).get("registered", 0)
        pub = registered.get(code, {}).get("public", 0) + merged.get(code, {}).get("merged_public", 0)
        cl = closed.get(code, {}).get("closed", 0)
        cl_on_time = closed.get(code, {}).get("closed_on_time", 0)
        name, parent = found.get(code, (code, ""))
        out.append({
            "region": code, "name": name, "parent": parent or "", "level": level, "registered": reg,
            "public_reports": pub, "merged_reports": merged.get(code, {}).get("merged", 0),
            "closed": cl, "closed_on_time": cl_on_time,
            "resolved_locally": local.get(code, {}).get("resolved_locally", 0),
            "self_handled": self_handled.get(code, {}).get("self_handled", 0),
            **_rounded({"public_report_rate": rate(pub, reg), "close_rate": rate(cl, reg),
                        "close_on_time_rate": rate(cl_on_time, reg)}),
        })
    out.sort(key=lambda r: r["region"])
    return out


def score_regions(rows: list[dict]) -> list[dict]:
    """A score, grade and rank for rows of `evaluate_regions` (one level), ranked among the rows given (the
    dashboard ranks a region's children among themselves). RULES.md §1 names the region's indicators but no
    score: this one weighs them as the other scores do (weights("region"), CITYOPS_CASE_EVAL_WEIGHTS["region"]) —
    结案率 × 40 + 按期结案率 × 40 + (1 − 监督举报率) × 20; a region with no registered case has no score, one with
    fewer than min_due() registered cases no grade and no rank (样本不足). Returns the rows ranked, best first."""
    w = weights("region")
    for row in rows:
        score = None
        if row["registered"]:
            score = round(_bad(row["close_rate"]) * w["close"] + _bad(row["close_on_time_rate"]) * w["close_on_time"]
                          + (1 - _bad(row["public_report_rate"])) * w["public_report"], 2)
        row["score"], row["grade"] = score, grade(score)
    return _ranked(rows, due_key="registered")


def evaluate_scored_regions(*, start: date, end: date, level: str = "district") -> list[dict]:
    """The regions' evaluation with `score_regions`' score, grade and rank, ranked among all regions of the level:
    the evaluation page and its exports (the dashboard ranks a region's children among themselves instead)."""
    return score_regions(evaluate_regions(start=start, end=end, level=level))


# --- hotline work orders (12345) ----------------------------------------------------------------------------
def evaluate_hotline(*, start: date, end: date) -> list[dict]:
    """Hotline indicators per department (RULES.md §1): 及时接收率 (accepted within the limit), 回退率 (returns
    per dispatch), 重办率 (rework/reopen per handled case), 按时办结率 (handled cases never late), 满意度
    (satisfied follow-ups per follow-up)."""
    rows = [
        r for r in _entries(start, end)
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
        if r["dept"]
    ]
    units = _unit_names(r["dept"] for r in rows)
    out = []
    for r in rows:
        out.append({
            "department": r["dept"], "name": units.get(r["dept"], {}).get("name", r["dept"]),
            **{k: v for k, v in r.items() if k != "dept"},
            **_rounded({
                "timely_accept_rate": rate(r["accepted_on_time"], r["accepted"]),
                "return_rate": rate(r["returned"], r["dispatched"]),
                "redo_rate": rate(r["redone"], r["handled"]),
                "on_time_rate": rate(r["handled"] - r["handled_late"], r["handled"]),
                "satisfaction_rate": rate(r["satisfied"], r["satisfied"] + r["unsatisfied"]),
            }),
        })
    out.sort(key=lambda r: (r["name"], r["department"]))
    return out


# --- the evaluations, for the API and the web pages alike ----------------------------------------------------
@dataclass(frozen=True)
class Column:
    """One column of an evaluation's table (the page, the CSV and the Excel export show the same columns):
    the row key it shows, its heading (a Chinese msgid, English on the English UI), its format ("rate" is a
    percentage, "kind" a unit kind's label, "" as it is). A column whose value the evaluation's own function
    does not compute brings `values(start=, end=)` → {row id: value} (row id: Evaluation.row_id); rows it does not
    name show 0."""

    key: str
    label: object
    fmt: str = ""
    values: Callable[..., dict] | None = None


@dataclass(frozen=True)
class Evaluation:
    """One evaluation: its name in the UI, the function computing it, the columns its table shows (a list: add a
    Column to show one more), what its rows are (departments, named staff by `user_id`, or regions: who may read
    them, cases.selectors.evaluation_rows), whether its rows carry a score, a grade and a rank, whether it takes a
    region level."""

    label: object
    compute: Callable[..., list[dict]]
    columns: list[Column] = field(default_factory=list)
    rows_are: str = "departments"  # DEPARTMENTS | STAFF | REGIONS
    scored: bool = False
    by_level: bool = False

    @property
    def row_id(self) -> str:
        return {DEPARTMENTS: "department", STAFF: "user_id", REGIONS: "region"}[self.rows_are]


DEPARTMENTS, STAFF, REGIONS = "departments", "staff", "regions"
C = Column

EVALUATIONS: dict[str, Evaluation] = {
    "departments": Evaluation(_("专业部门"), evaluate_departments, [
        C("name", _("单位")), C("unit_kind", _("类型"), "kind"), C("due", _("应处置")), C("tasks_due", _("其中协办")),
        C("handled", _("已处置")), C("handle_rate", _("处置率"), "rate"), C("on_time_rate", _("按期处置率"), "rate"),
        C("close_rate", _("结案率"), "rate"), C("rework_rate", _("返工率"), "rate"),
        C("overdue_unhandled", _("超期待处置")), C("overdue_rate", _("超期待处置率"), "rate"),
        C("extension_rate", _("延期率"), "rate"), C("supervision_received", _("收到督办"), values=received_by_department),
    ], DEPARTMENTS, scored=True),
    "dispatchers": Evaluation(_("派遣员"), evaluate_dispatchers, [
        C("name", _("派遣员")), C("dispatched", _("派遣数")), C("returned", _("被退回")),
        C("on_time_rate", _("按时派遣率"), "rate"), C("accuracy_rate", _("准确派遣率"), "rate"),
    ], STAFF, scored=True),
    "shift_leads": Evaluation(_("值班长"), evaluate_shift_leads, [
        C("name", _("值班长")), C("registered", _("立案数")), C("voided", _("作废数")), C("closed", _("结案数")),
        C("register_on_time_rate", _("按时立案率"), "rate"), C("register_accuracy_rate", _("准确立案率"), "rate"),
        C("close_on_time_rate", _("按时结案率"), "rate"),
    ], STAFF, scored=True),
    "field_workers": Evaluation(_("网格员"), evaluate_field_workers, [
        C("name", _("网格员")), C("reports", _("上报数")), C("valid_reports", _("有效上报")),
        C("valid_rate", _("有效上报率"), "rate"), C("check_on_time_rate", _("按时核实率"), "rate"),
        C("verify_on_time_rate", _("按时核查率"), "rate"), C("missed_rate", _("漏报率"), "rate"),
    ], STAFF, scored=True),
    "regions": Evaluation(_("区域"), evaluate_scored_regions, [
        C("name", _("区域")), C("parent", _("上级区域")), C("registered", _("立案数")),
        C("public_reports", _("公众举报")), C("merged_reports", _("合并举报")),
        C("public_report_rate", _("监督举报率"), "rate"),
        C("close_rate", _("结案率"), "rate"), C("close_on_time_rate", _("按期结案率"), "rate"),
        C("resolved_locally", _("街道社区办结")), C("self_handled", _("自处理")),
        # Four levels (issue 12 §3): closed cases resolved at their street or community / closed (cases.levels).
        C("local_rate", _("属地解决率"), "rate", values=local_rate_by_region),
    ], REGIONS, scored=True, by_level=True),
    "hotline": Evaluation(_("12345 热线"), evaluate_hotline, [
        C("name", _("部门")), C("dispatched", _("派单数")), C("handled", _("办结数")),
        C("timely_accept_rate", _("及时接收率"), "rate"), C("return_rate", _("回退率"), "rate"),
        C("redo_rate", _("重办率"), "rate"), C("on_time_rate", _("按时办结率"), "rate"),
        C("satisfaction_rate", _("满意度"), "rate"),
    ], DEPARTMENTS),
}


def evaluate(kind: str, *, start: date, end: date, level: str = "district") -> list[dict]:
    """The rows of evaluation `kind` (a key of EVALUATIONS) for the date range; `level` for region evaluations.
    Columns that bring their own values are filled in here."""
    chosen = EVALUATIONS[kind]
    rows = chosen.compute(start=start, end=end, **({"level": level} if chosen.by_level else {}))
    for column in chosen.columns:
        if column.values is not None:
            values = column.values(start=start, end=end)
            for row in rows:
                row[column.key] = values.get(row[chosen.row_id], 0)
    return rows


__all__ = [
    "EVALUATIONS", "Column", "Evaluation", "evaluate", "evaluate_departments", "evaluate_dispatchers",
    "evaluate_shift_leads", "evaluate_field_workers", "evaluate_regions", "evaluate_hotline", "grade",
    "score_regions", "evaluate_scored_regions",
]
