"""Every read of cases, scoped by the user once here (DESIGN.md "Roles and scope"):
city-wide roles see all; a department sees what it leads or assists; grid workers and street/community staff
see what lies in their regions; everyone sees their own reports. Outside the scope a case does not exist (404).
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.contrib.auth import get_user_model
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from cityops.cases import evaluation
from cityops.cases.models import Case, CaseTask, Category
from cityops.cases.workflow import CITY_DISPATCH_LEVELS, HANDLING_STATES, dispatcher_level
from cityops.core import roles
from cityops.core.errors import Forbidden, InvalidInput, NotFound
from cityops.core.scope import is_city_wide, scope_q
from cityops.core.timeline import timeline_for

FILTERS = ("state", "category", "district", "department", "overdue", "level", "source", "from", "to", "q", "region")


# Queues by deadline: the running deadlines first, the earliest on top; a case with no running deadline (挂账: its
# clock is paused, or a state with no clock) after them — SQLite would put NULL first, PostgreSQL last.
BY_DEADLINE = (F("deadline_at").asc(nulls_last=True), "id")

_ASSISTING_ROLES = frozenset({"dept_handler", "dept_lead"})  # who sees the cases their unit assists (协办)


def _scope(user) -> Q | None:
    extra = None
    if user.is_authenticated and user.org_unit_ids and user.role_codes & _ASSISTING_ROLES:
        extra = Q(pk__in=CaseTask.objects.filter(department_id__in=list(user.org_unit_ids)).values("case_id"))
    return scope_q(user, region_field="region_code", org_field="lead_department_id", owner_field="reporter_id", extra=extra)


def _day(value, end: bool = False) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    try:
        d = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"日期格式应为 YYYY-MM-DD：{value!r}", f"Dates are YYYY-MM-DD: {value!r}", code="invalid_date") from None
    return timezone.make_aware(datetime.combine(d, time.max if end else time.min))


def case_list(*, user, filters: dict | None = None) -> QuerySet[Case]:
    """Cases the user may see, filtered (state may be a comma list) and ordered: by deadline for queues
    (`order=deadline`), newest first otherwise."""
    filters = filters or {}
    qs = Case.objects.select_related("category", "lead_department")
    q = _scope(user)
    if q is not None:
        qs = qs.filter(q)
    if filters.get("state"):
        states = [s for s in str(filters["state"]).split(",") if s]
        qs = qs.filter(state__in=states)
    if filters.get("category"):
        qs = qs.filter(category__code=filters["category"])
    if filters.get("district"):
        qs = qs.filter(district_code=filters["district"])
    if filters.get("region"):
        qs = qs.filter(region_code__startswith=filters["region"])
    if filters.get("department"):
        qs = qs.filter(lead_department__code=filters["department"])
    if filters.get("level"):
        qs = qs.filter(level=filters["level"])
    if filters.get("source"):
        qs = qs.filter(source=filters["source"])
    overdue = filters.get("overdue")
    if overdue not in (None, ""):
        flag = overdue if isinstance(overdue, bool) else str(overdue).lower() in ("1", "true", "yes")
        now = timezone.now()
        late = Q(overdue=True) | Q(deadline_at__lt=now, clock_paused_at__isnull=True)
        qs = qs.filter(late) if flag else qs.exclude(late)
    start, end = _day(filters.get("from")), _day(filters.get("to"), end=True)
    if start:
        qs = qs.filter(created_at__gte=start)
    if end:
        qs = qs.filter(created_at__lte=end)
    if filters.get("q"):
        text = str(filters["q"]).strip()
        qs = qs.filter(Q(code=text) | Q(description__icontains=text) | Q(address__icontains=text))
    if filters.get("order") == "deadline":
        return qs.order_by(*BY_DEADLINE)
    return qs.order_by("-created_at", "-id")


def dispatch_queue(*, user) -> QuerySet[Case]:
    """派遣队列: what waits for the user's command centre, by deadline — registered and returned cases at its level
    (workflow "Four levels"): for the city's dispatcher those waiting at the city or, new, at their community; for a
    district's dispatcher those waiting at the district level inside the district (its scope). Anyone else who
    opens it: every waiting case in their scope."""
    qs = case_list(user=user, filters={"state": "registered,returned", "order": "deadline"})
    level = dispatcher_level(user)
    if level == "city":
        return qs.filter(level__in=CITY_DISPATCH_LEVELS)
    if level == "district":
        return qs.filter(level="district")
    return qs


def approval_list(*, user, state: str) -> QuerySet[Case]:
    """Cases in `state` waiting for a decision (审批), by deadline. A dispatcher gets those of their own command
    centre: a return waiting at its level, a request about a case it dispatched (workflow.dispatcher_in_charge)."""
    qs = case_list(user=user, filters={"state": state, "order": "deadline"})
    level = dispatcher_level(user)
    if not level or state in ("void_requested", "verified"):
        return qs
    if state == "returned":
        return qs.filter(level__in=CITY_DISPATCH_LEVELS if level == "city" else ["district"])
    return qs.filter(dispatched_level__in=["city", ""] if level == "city" else ["district"])


def level_queue(*, user) -> QuerySet[Case]:
    """本级待办 of a street office or community committee, by deadline: the registered cases waiting at the unit's
    level inside its region (to claim, or to escalate with a reason), and the cases the unit holds (dispatched to
    it or claimed by it, in a handling state). Within the user's scope like every read."""
    from cityops.accounts.models import OrgUnit

    if not user.is_authenticated or not user.org_unit_ids:
        return Case.objects.none()
    units = list(OrgUnit.objects.filter(pk__in=list(user.org_unit_ids), kind__in=("street", "community"))
                 .exclude(region_code=""))
    if not units:
        return Case.objects.none()
    wanted = Q(lead_department_id__in=[u.pk for u in units], state__in=list(HANDLING_STATES))
    for unit in units:
        wanted |= Q(state="registered", level=unit.kind, region_code__startswith=unit.region_code)
    qs = Case.objects.select_related("category", "lead_department").filter(wanted)
    q = _scope(user)
    if q is not None:
        qs = qs.filter(q)
    return qs.order_by(*BY_DEADLINE)


def department_queue(*, user, states=HANDLING_STATES, department: str | None = None) -> QuerySet[Case]:
    """The department queue: cases a unit leads (a department, or a street/community that took the case),
    in handling states, by deadline (traffic-light order). A subset of the user's scope: a department or
    region user gets what their own units lead; city-wide roles get every unit's (or `department`'s).
    Written so that PostgreSQL answers from the (lead_department, state, deadline_at) index."""
    qs = Case.objects.select_related("category", "lead_department").filter(state__in=list(states))
    if is_city_wide(user):
        if department:
            qs = qs.filter(lead_department__code=department)
    elif user.is_authenticated and user.org_unit_ids:
        # Within the user's scope like every read: membership of a unit alone (a resident, a grid worker listed
        # under a unit) does not open its queue.
        qs = qs.filter(lead_department_id__in=list(user.org_unit_ids))
        q = _scope(user)
        if q is not None:
            qs = qs.filter(q)
    else:
        return qs.none()
    return qs.order_by(*BY_DEADLINE)


def tasks_by_case(*, cases) -> dict[int, list[CaseTask]]:
    """Sub-tasks (一事联办) of already scoped cases (e.g. one page of a queue), in one query."""
    ids = [c.pk for c in cases if c is not None]
    out: dict[int, list[CaseTask]] = {}
    if ids:
        for task in CaseTask.objects.filter(case_id__in=ids).select_related("department").order_by("id"):
            out.setdefault(task.case_id, []).append(task)
    return out


def assisting_tasks(*, user, limit: int = 50) -> list[CaseTask]:
    """Open sub-tasks where the user's units assist (协办), by deadline: for the department roles that see the
    cases their unit assists (as `_scope` grants)."""
    if not user.is_authenticated or not user.org_unit_ids or not user.role_codes & _ASSISTING_ROLES:
        return []
    return list(
        CaseTask.objects.filter(department_id__in=list(user.org_unit_ids), state="open")
        .select_related("case", "department")
        .order_by("deadline_at", "id")[:limit]
    )


# --- evaluation: who sees what (RULES.md §1 "Who sees evaluation"), for the API, the page and the exports ------
SEES_ALL_EVALUATIONS = frozenset({roles.LEADER, roles.SUPERVISOR, roles.ADMIN})
DEPARTMENT_ROLES = frozenset({roles.DEPT_HANDLER, roles.DEPT_LEAD})


def evaluation_kinds(*, user) -> list[str]:
    """The evaluations `user` may open, in the registry's order: all of them for the leader and the supervisor
    (and the system admin); the department rankings for the people of a department; the evaluations of named
    staff for every staff member (where they see their own row: `evaluation_rows`). Residents: none."""
    if not user.is_authenticated:
        return []
    codes = user.role_codes
    if codes & SEES_ALL_EVALUATIONS:
        return list(evaluation.EVALUATIONS)
    if not codes - {roles.RESIDENT}:
        return []
    shown = {evaluation.STAFF} | ({evaluation.DEPARTMENTS} if codes & DEPARTMENT_ROLES else set())
    return [kind for kind, chosen in evaluation.EVALUATIONS.items() if chosen.rows_are in shown]


def _staff_rows_shown(user) -> set[int]:
    """Whose named rows `user` sees below the all-seeing roles: their own, and a department lead also those of
    the staff of their own units. Named scores of staff are never shown to other units."""
    ids = {user.pk}
    if roles.DEPT_LEAD in user.role_codes and user.org_unit_ids:
        members = get_user_model().objects.filter(org_units__in=list(user.org_unit_ids)).values_list("pk", flat=True)
        ids |= set(members)
    return ids


def evaluation_rows(*, user, kind: str, start: date, end: date, level: str = "district") -> list[dict]:
    """The rows of evaluation `kind` that `user` may read: 404 for an unknown kind, 403 for one they may not open;
    of the evaluations of named staff, only the rows `_staff_rows_shown` allows."""
    if kind not in evaluation.EVALUATIONS:
        raise NotFound(f"未知评价对象 {kind}", f"Unknown evaluation {kind}", code="unknown_evaluation")
    if kind not in evaluation_kinds(user=user):
        raise Forbidden(f"无权查看该综合评价：{kind}", f"You may not read the evaluation '{kind}'", code="role_not_allowed")
    rows = evaluation.evaluate(kind, start=start, end=end, level=level)
    if evaluation.EVALUATIONS[kind].rows_are == evaluation.STAFF and not user.role_codes & SEES_ALL_EVALUATIONS:
        shown = _staff_rows_shown(user)
        rows = [row for row in rows if row["user_id"] in shown]
    return rows


def level_resolution(*, user, start: date, end: date, region: str = "") -> list[dict]:
    """属地解决率 per level (cases.levels) for the leader and the supervisor (and the system admin), who see every
    evaluation; no one else (403)."""
    from cityops.cases.levels import resolution_by_level

    if not user.is_authenticated or not user.role_codes & SEES_ALL_EVALUATIONS:
        raise Forbidden("无权查看属地解决率", "You may not read the local resolution rates", code="role_not_allowed")
    if end < start:
        raise InvalidInput("结束日期早于开始日期", "'to' is before 'from'", code="invalid_range")
    return resolution_by_level(start=start, end=end, region=region)


def case_get(*, user, code: str) -> Case:
    qs = Case.objects.select_related("category", "lead_department", "reporter", "duplicate_of")
    q = _scope(user)
    if q is not None:
        qs = qs.filter(q)
    case = qs.filter(code=code).first()
    if case is None:
        raise NotFound(f"案件 {code} 不存在", f"Case {code} does not exist", code="case_not_found")
    return case


def case_for_answer(*, pk: int) -> Case:
    """A case the caller has just created or acted on, with what its answer shows. Not scoped again: acting
    may take a case out of the actor's scope (a department returning it) and the answer is still theirs."""
    return Case.objects.select_related("category", "proposed_department", "lead_department", "duplicate_of").get(pk=pk)


def case_timeline(*, user, code: str):
    case = case_get(user=user, code=code)
    return case, timeline_for(case)


def case_tasks(*, case: Case) -> QuerySet[CaseTask]:
    return case.tasks.select_related("department").order_by("id")


def category_list(*, active_only: bool = True) -> QuerySet[Category]:
    qs = Category.objects.all()
    return qs.filter(active=True) if active_only else qs
