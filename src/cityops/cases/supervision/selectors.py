"""Every read of supervision orders, scoped by the user: city-wide roles (the supervisor, leaders, the
operations centre) see every order; a unit's staff see the orders addressed to their units."""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import Count, F, Q, QuerySet
from django.db.models.fields.json import KT

from cityops.cases.models import SupervisionOrder
from cityops.cases.supervision import LEVEL_RANK, OPEN_ORDER_STATES, UNIT_STAFF_ROLES
from cityops.core import roles
from cityops.core.errors import Forbidden
from cityops.core.models import TimelineEntry
from cityops.core.scope import is_city_wide

QUEUE_ROLES = frozenset({roles.SUPERVISOR, roles.LEADER, roles.ADMIN})  # who reads the supervision queue


def order_list(*, user) -> QuerySet[SupervisionOrder]:
    qs = SupervisionOrder.objects.exclude(state="draft").select_related("case", "task", "unit")
    if is_city_wide(user):
        return qs
    if user.is_authenticated and user.role_codes & UNIT_STAFF_ROLES and user.org_unit_ids:
        return qs.filter(unit_id__in=list(user.org_unit_ids))
    return qs.none()


def may_read_queue(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.role_codes & QUEUE_ROLES))


def require_queue_reader(user) -> None:
    if not may_read_queue(user):
        raise Forbidden("只有督办员和领导可以查看督办队列", "Only supervisors and leaders read the supervision queue",
                        code="role_not_allowed")


def supervision_queue(*, user, level: str = "") -> QuerySet[SupervisionOrder]:
    """Open orders, the highest level first (挂牌督办, 督办, 催办), then the latest first: overdue before due, the
    earliest deadline first; answered orders (waiting for the supervisor, no clock) last within their level."""
    require_queue_reader(user)
    qs = order_list(user=user).filter(state__in=OPEN_ORDER_STATES)
    if level:
        qs = qs.filter(level=level)
    rank = models.Case(*(models.When(level=code, then=models.Value(n)) for code, n in LEVEL_RANK.items()),
                       default=models.Value(0), output_field=models.IntegerField())
    return qs.annotate(rank=rank).order_by("-rank", "-overdue", F("deadline_at").asc(nulls_last=True), "id")


def unit_inbox(*, user) -> QuerySet[SupervisionOrder]:
    """Orders the user's units must answer, by deadline (the unit's inbox of 督办单)."""
    if not (user.is_authenticated and user.role_codes & UNIT_STAFF_ROLES and user.org_unit_ids):
        return SupervisionOrder.objects.none()
    return (SupervisionOrder.objects.filter(unit_id__in=list(user.org_unit_ids), state="issued")
            .select_related("case", "task", "unit").order_by("deadline_at", "id"))


def case_orders(*, case) -> QuerySet[SupervisionOrder]:
    """The orders on one case (already read in the user's scope), newest first."""
    return case.supervision_orders.exclude(state="draft").select_related("unit", "task", "task__department").order_by("-id")


def supervision_received(*, start: date, end: date) -> dict[str, dict[str, int]]:
    """督办 received per department in [start, end] (both days, local time), counted from the timeline: orders
    issued to it (`received`, each at the level it was issued at), and raises of its unanswered or unaccepted
    orders to a higher level (`escalated`)."""
    from cityops.cases.evaluation import period

    lo, hi = period(start, end)
    rows = (
        TimelineEntry.objects.filter(subject_type=SupervisionOrder._meta.label_lower, at__gte=lo, at__lt=hi,
                                     action__in=("issue", "escalate"))
        .values(dept=KT("params__dept"))
        .annotate(received=Count("id", filter=Q(action="issue")), escalated=Count("id", filter=Q(action="escalate")))
    )
    return {r["dept"]: {"received": r["received"], "escalated": r["escalated"]} for r in rows if r["dept"]}


def received_by_department(*, start: date, end: date) -> dict[str, int]:
    """督办单 issued to each department in the period: the department evaluation's column (cases.evaluation)."""
    return {dept: got["received"] for dept, got in supervision_received(start=start, end=end).items()}
