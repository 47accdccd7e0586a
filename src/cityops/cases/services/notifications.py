"""Who is told what about a case: the people of a role, of units or of a place, notified after commit."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from cityops.cases.models import Case
from cityops.core import roles
from cityops.core.notify import notify


def _role_users(*codes: str):
    return get_user_model().objects.filter(groups__name__in=codes, is_active=True).distinct()


def _unit_users(unit_ids: Iterable[int]):
    return get_user_model().objects.filter(org_units__in=list(unit_ids), is_active=True).distinct()


def _region_users(region_code: str, role: str):
    """Grid workers / region staff whose regions contain the code. Region lists are JSON, so the prefix
    test runs here over the (few) users of that role."""
    return [
        u for u in _role_users(role)
        if any(region_code.startswith(c) for c in (u.region_codes or []) if c)
    ]


def _dispatchers_of(case: Case):
    """The command centre that dispatched the case decides its return, extension or suspension: the dispatchers
    of its district, or the city's."""
    if case.dispatched_level == "district":
        return _region_users(case.region_code, roles.DISTRICT_DISPATCHER)
    return _role_users(roles.DISPATCHER)


def case_body(case: Case) -> str:
    """What a notification about a case says besides its title: the category, where, the description's start and
    the current deadline — enough to know what it is about before opening it."""
    where = " ".join(p for p in (case.district_name, case.street_name, case.address) if p)
    lines = [f"{case.category.name_zh if case.category_id else ''} · {where}".strip(" ·")]
    if case.description:
        description = " ".join(case.description.split())
        lines.append(description[:120] + ("…" if len(description) > 120 else ""))
    if case.deadline_at:
        lines.append(f"时限 {timezone.localtime(case.deadline_at):%Y-%m-%d %H:%M}")
    return "\n".join(line for line in lines if line)


def _notify_later(recipients_fn: Callable[[], Iterable], kind: str, title: str, case: Case, body: str = "") -> None:
    def send():
        notify(recipients=list(recipients_fn()), kind=kind, title=title, body=body or case_body(case), subject=case,
               url=f"/cases/{case.code}/")

    transaction.on_commit(send)


def notify_overdue(*, case, escalation) -> None:
    """Called by the overdue sweep (already after commit): 超期/催办/通报 to whoever owns the case."""
    if not isinstance(case, Case):
        return
    people = list(_unit_users([case.lead_department_id])) if case.lead_department_id else []
    if escalation.level >= 3 or not people:
        people += list(_role_users(roles.SHIFT_LEAD, roles.SUPERVISOR))
    notify(recipients=people, kind=f"case_{escalation.action}", title=f"【{escalation.label}】案件 {case.code}",
           body=case_body(case), subject=case, url=f"/cases/{case.code}/")
