"""How a viewer sees the people of a case — its reporter and the residents on its timeline — written once for
the case page, the case API and the timeline (API and page) alike (issue 10 §3; DESIGN.md "Roles and scope":
personal data is masked wherever the viewer does not need it).

- A resident (a user with no staff role) is never shown by login or name to anyone: they are "市民", or
  "匿名市民" on a case they reported anonymously. The timeline keeps who acted (actor id and name are part of
  its hash chain and of the audit); only what is shown changes.
- The reporter's account is never linked: `reporter_id` is left out of the timeline params shown, unless the
  reporter is staff (a grid worker's report is their work, counted in their evaluation).
- The callback phone: in full to the roles that call back (受理/回访: operator, shift lead; and the admin) and
  to the reporter; masked to other staff; nothing at all when the report is anonymous.
- Staff stay visible to staff, by their display name (the account's name, its login only when it has none):
  names, never logins, on every page (issue 13).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from cityops.cases.models import Case, mask_phone
from cityops.core import roles

RESIDENT = _("市民")
ANONYMOUS = _("匿名市民")
DELETED = _("已注销账号")
CALLBACK_ROLES = frozenset({roles.OPERATOR, roles.SHIFT_LEAD, roles.ADMIN})
STAFF_ROLES = frozenset(roles.ALL_ROLES) - {roles.RESIDENT}
# Public cases whose reporter came in without an account: the entries with no actor that they wrote.
_PUBLIC_REPORTER_ACTIONS = frozenset({"report", "photo_add"})
_PUBLIC_REPORTER_SOURCES = frozenset({Case.Source.PORTAL, Case.Source.OPEN311})


def staff_names(user_ids) -> dict[int, str | None]:
    """id → display name (its name, else its login) of each of these users who holds a staff role (anything but
    resident) or is a superuser, None for the others (residents); one query. The id of a deleted account is
    absent."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    user_model = get_user_model()
    staff_role = user_model.groups.through.objects.filter(user_id=OuterRef("pk"), group__name__in=STAFF_ROLES)
    rows = user_model.objects.filter(pk__in=ids).annotate(staff=Exists(staff_role))
    return {pk: ((name or login) if superuser or staff else None)
            for pk, login, name, superuser, staff in rows.values_list("pk", "username", "first_name", "is_superuser", "staff")}


@dataclass(frozen=True)
class Reporter:
    label: str  # who reported, as this viewer may see it ("" for a case no person reported: IoT, video)
    phone: str  # the callback phone as this viewer may see it: full, masked or ""


def reporter_seen_by(case: Case, viewer, *, staff: dict[int, str | None] | None = None) -> Reporter:
    """The reporter of `case` as `viewer` sees them. `staff`: `staff_names` of (at least) the reporter, when the
    caller has it for a whole page of cases."""
    if staff is None:
        staff = staff_names([case.reporter_id])
    if case.anonymous:
        label = str(ANONYMOUS)
    elif staff.get(case.reporter_id):
        label = staff[case.reporter_id]
    elif case.reporter_id is not None or case.source in Case.PUBLIC_SOURCES:
        label = str(RESIDENT)
    else:
        label = ""
    return Reporter(label, _phone_seen_by(case, viewer))


def _phone_seen_by(case: Case, viewer) -> str:
    if not case.reporter_phone:
        return ""
    if viewer is not None and viewer.is_authenticated and (
        viewer.role_codes & CALLBACK_ROLES or (case.reporter_id is not None and viewer.pk == case.reporter_id)
    ):
        return case.reporter_phone
    return "" if case.anonymous else mask_phone(case.reporter_phone)


@dataclass(frozen=True)
class SeenEntry:
    """A timeline entry as a viewer sees it (the attribute names of core.TimelineEntry, for the templates)."""

    seq: int
    at: datetime
    actor_name: str
    action: str
    from_state: str
    to_state: str
    note: str
    params: dict[str, Any]


def timeline_seen_by(case: Case, entries) -> list[SeenEntry]:
    """The case's timeline entries with every resident shown as a resident and no account link to one."""
    entries = list(entries)
    staff = staff_names({e.actor_id for e in entries} | {case.reporter_id})
    reporter_is_staff = bool(staff.get(case.reporter_id))
    out = []
    for e in entries:
        params = e.params if reporter_is_staff or "reporter_id" not in (e.params or {}) else {
            k: v for k, v in e.params.items() if k != "reporter_id"
        }
        out.append(SeenEntry(e.seq, e.at, _actor_label(case, e, staff), e.action, e.from_state, e.to_state, e.note,
                             params))
    return out


def _actor_label(case: Case, entry, staff: dict[int, str | None]) -> str:
    if entry.actor_id is None:
        if entry.action in _PUBLIC_REPORTER_ACTIONS and case.source in _PUBLIC_REPORTER_SOURCES:
            return str(ANONYMOUS if case.anonymous else RESIDENT)
        return entry.actor_name
    if entry.actor_id not in staff:
        return str(DELETED)  # staff or resident, nobody can tell now: never their stored login
    if staff[entry.actor_id]:
        return staff[entry.actor_id]
    return str(ANONYMOUS if case.anonymous and entry.actor_id == case.reporter_id else RESIDENT)
