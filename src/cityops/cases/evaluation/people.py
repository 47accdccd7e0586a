"""The evaluations of named staff: dispatchers (派遣员), shift leads (值班长) and field workers (网格员)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import BigIntegerField, Count, Q
from django.db.models.functions import Cast

from cityops.cases.evaluation.common import (
    _bad,
    _by_region,
    _count_by_user_param,
    _entries,
    _good,
    _holders,
    _merged_reports,
    _person_name,
    _ranked,
    _rounded,
    grade,
    rate,
    weights,
)
from cityops.cases.models import Case
from cityops.cases.workflow import DISPATCH, FIELD
from cityops.core import roles


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
