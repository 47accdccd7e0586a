"""What every evaluation of cases shares: the timeline entries of a period, rates and their scoring, grades,
the minimum sample and the ranking, weights (CITYOPS_CASE_EVAL_WEIGHTS), names of units and people, counts per
region code prefix. The rules of each count are in the package's docstring (cases/evaluation/__init__.py); the
underscored helpers are for the package's own modules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.db.models.fields.json import KT
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cityops.accounts.models import OrgUnit
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



# --- per region (field workers' regions, the regions' evaluation) ------------------------------------------
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
