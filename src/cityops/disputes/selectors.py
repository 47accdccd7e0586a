"""Every read of disputes goes through `dispute_list(user=…)`, the scope (DESIGN.md "Roles and scope"):

- city-wide roles (admin, leader, operator, shift lead, dispatcher, supervisor): every dispute;
- centre staff: the disputes of their centre;
- a mediator: the disputes routed to their committee (and any assigned to them) — nothing of another committee;
- a police liaison: the disputes of their centre that were escalated (§25);
- region-bound roles (grid worker, street/community staff, district dispatcher): the disputes in their regions;
- a resident: their own — as the applicant or as a party whose account is linked;
- a referring body's service account: what it referred.
"""

from __future__ import annotations

from django.db.models import CharField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast

from cityops.core import roles
from cityops.core.models import TimelineEntry
from cityops.core.scope import is_city_wide
from cityops.disputes.models import Dispute, Party

OPEN_STATES = ("registered", "accepted", "assigned", "mediating", "agreed", "confirmation_requested", "confirmed",
               "not_confirmed", "performed", "terminated", "escalated")


def scope_q(user) -> Q | None:
    """The Q of what `user` may read, None for everything."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    if is_city_wide(user):
        return None
    codes = user.role_codes
    units = list(user.org_unit_ids)
    q = Q(applicant_id=user.pk) | Q(Exists(Party.objects.filter(dispute=OuterRef("pk"), user_id=user.pk)))
    if roles.CENTRE_STAFF in codes and units:
        q |= Q(centre_id__in=units)
    if roles.MEDIATOR in codes:
        q |= Q(mediator_id=user.pk)
        if units:
            q |= Q(committee_id__in=units)
    if roles.POLICE_LIAISON in codes and units:
        escalated = TimelineEntry.objects.filter(subject_type="disputes.dispute", action="escalate",
                                                 subject_id=Cast(OuterRef("pk"), CharField()))
        q |= Q(centre_id__in=units) & (Q(state="escalated") | Q(Exists(escalated)))
    if codes & roles.REGION_BOUND_ROLES:
        for code in user.region_codes or []:
            if code:
                q |= Q(region_code__startswith=code)
    if roles.REFERRER in codes:
        q |= Q(referrer__user_id=user.pk)
    return q


def dispute_list(*, user) -> QuerySet[Dispute]:
    q = scope_q(user)
    qs = Dispute.objects.all() if q is None else Dispute.objects.filter(q)
    return qs.select_related("centre", "committee", "mediator")


def dispute_get(*, user, pk: int) -> Dispute | None:
    return dispute_list(user=user).filter(pk=pk).first()


FILTERS = ("state", "kind", "risk_level", "source", "channel", "committee_id", "mediator_id", "centre_id")


def dispute_search(*, user, filters: dict) -> QuerySet[Dispute]:
    """The list with filters (each a field's exact value; `open` true/false; `q` in the code or the title)."""
    qs = dispute_list(user=user)
    for name in FILTERS:
        value = filters.get(name)
        if value not in (None, ""):
            qs = qs.filter(**{name: value})
    if filters.get("open") is True:
        qs = qs.filter(state__in=OPEN_STATES)
    elif filters.get("open") is False:
        qs = qs.exclude(state__in=OPEN_STATES)
    text = (filters.get("q") or "").strip()
    if text:
        qs = qs.filter(Q(code__icontains=text) | Q(title__icontains=text))
    return qs.order_by("-created_at", "-pk")


def mediator_queue(*, user) -> QuerySet[Dispute]:
    """A mediator's work: the open disputes assigned to them, by deadline; then the ones routed to their committee
    that wait for a mediator."""
    return (dispute_list(user=user).filter(Q(mediator_id=user.pk, state__in=OPEN_STATES)
                                           | Q(committee_id__in=list(user.org_unit_ids), state="accepted"))
            .order_by("deadline_at", "pk"))


def own_disputes(*, user) -> QuerySet[Dispute]:
    """A resident's own disputes (as applicant or party), newest first."""
    return (Dispute.objects.filter(Q(applicant_id=user.pk)
                                   | Q(Exists(Party.objects.filter(dispute=OuterRef("pk"), user_id=user.pk))))
            .select_related("committee", "mediator").order_by("-created_at"))


def case_disputes(*, case, user) -> QuerySet[Dispute]:
    """The disputes made from a city case that `user` may read (the case page lists them)."""
    return dispute_list(user=user).filter(case=case).order_by("created_at")


def high_risk_at(at) -> Q:
    """Whether a dispute's risk level was high at the instant `at`, from its timeline: the level only rises (§25,
    services.raise_risk), recorded by the registration (`risk_level`), an escalation (`risk_level` "high") or a raise
    (`to`) — so it was high then if an entry before `at` made it so. A dispute without any entry before `at`
    (written without its timeline) is taken at its own field."""
    from cityops.core.timeline import timeline_before

    before = timeline_before(Dispute, at)
    made_high = before.filter(Q(params__risk_level="high") | Q(action="raise_risk", params__to="high"))
    return Q(Exists(made_high)) | (Q(risk_level="high") & ~Q(Exists(before)))
