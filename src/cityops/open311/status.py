"""How a case's state reads in Open311.

GeoReport v2 knows only `open` and `closed` (lower case, in GET requests). FixMyStreet's extension adds
finer states for servicerequestupdates, written in upper case there (OPEN, CLOSED, IN_PROGRESS, …; FMS
lower-cases whatever it receives). A case is `closed` for Open311 once the problem is settled for the
public: closed (结案, follow-up pending), archived, voided, or merged into another case.
"""

from django.utils.translation import gettext_lazy as _

CLOSED_STATES = frozenset({"closed", "archived", "voided", "merged"})

# state → FixMyStreet extended status (mysociety/fixmystreet wiki "Open311 FMS - Additional states")
EXTENDED = {
    "reported": "open",
    "checking": "investigating",
    "void_requested": "investigating",
    "registered": "investigating",
    "returned": "internal_referral",
    "dispatched": "action_scheduled",
    "accepted": "in_progress",
    "extension_requested": "in_progress",
    "suspend_requested": "in_progress",
    "suspended": "in_progress",
    "handled": "fixed",
    "verified": "fixed",
    "closed": "fixed",
    "archived": "fixed",
    "voided": "no_further_action",
    "merged": "duplicate",
}

# What a resident reads (portal and status_notes): plain words, not the office's step names.
PLAIN = {
    "open": _("已收到，等待受理"),
    "investigating": _("正在核实和受理"),
    "internal_referral": _("正在重新分派处理部门"),
    "action_scheduled": _("已派给处理部门"),
    "in_progress": _("正在处理"),
    "fixed": _("已处理完毕"),
    "no_further_action": _("经核实不予受理"),
    "duplicate": _("与他人反映的同一问题合并处理"),
}


def open311_status(state: str) -> str:
    return "closed" if state in CLOSED_STATES else "open"


def extended_status(state: str) -> str:
    return EXTENDED.get(state, "open")


def plain_words(state: str) -> str:
    return str(PLAIN[extended_status(state)])


def states_for(statuses: set[str]) -> set[str] | None:
    """Case states matching Open311 statuses (open/closed) or extended ones; None = every state."""
    if not statuses:
        return None
    wanted: set[str] = set()
    for state, ext in EXTENDED.items():
        if open311_status(state) in statuses or ext in statuses:
            wanted.add(state)
    return wanted


KNOWN_STATUSES = frozenset({"open", "closed", *EXTENDED.values()})
