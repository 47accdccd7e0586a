"""Every read of the dashboard, scoped by the user (DESIGN.md "Roles and scope"): city-wide roles see every
warning; a district's command centre and street or grid staff see the warnings inside their regions."""

from django.db.models import Count, QuerySet

from cityops.core.errors import NotFound
from cityops.core.scope import scope_filter
from cityops.dashboard.models import EarlyWarning
from cityops.dashboard.workflow import OPEN_STATES


def warnings_in_scope(*, user) -> QuerySet[EarlyWarning]:
    """The scope, once: the warnings whose region lies inside the user's (all for city-wide roles)."""
    return scope_filter(EarlyWarning.objects.all(), user, region_field="region_code")


def warning_list(*, user, state: str = "", open_only: bool = False) -> QuerySet[EarlyWarning]:
    qs = warnings_in_scope(user=user).select_related("category")
    if open_only:
        qs = qs.filter(state__in=OPEN_STATES)
    if state:
        qs = qs.filter(state=state)
    return qs.annotate(case_count=Count("cases")).order_by("-detected_at")


def warning_get(*, user, pk: int) -> EarlyWarning:
    warning = warning_list(user=user).filter(pk=pk).first()
    if warning is None:
        raise NotFound("未找到预警", "No such warning", code="warning_not_found")
    return warning


def warning_cases(*, warning: EarlyWarning, limit: int = 500):
    """The cases that make the warning up, oldest first: code, time and place (no reporter's data)."""
    return (warning.cases.order_by("created_at")
            .only("code", "created_at", "address", "street_name", "community_name", "state", "category_id")[:limit])
