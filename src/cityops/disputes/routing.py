"""Routing a dispute (分流): the channel, the committee and the mediator the centre's staff are offered when they
accept it (RULES.md §2 "The centre routes each dispute to one channel"). Staff confirm or change the suggestion;
nothing here writes.

The rules, in order:
1. A dispute the court entrusts (法院委托 / 委派, `entrustment` set or referred by a court) → 司法（特邀）调解: a
   committee with a court-invited remit covering its region; failing one, the local people's committee.
2. A dispute type that a specialised committee lists in its remit (物业纠纷, 劳动争议, 医疗纠纷, 交通事故 … an
   industry committee; a consumer dispute where an administrative committee takes them) → that committee's channel,
   where one covers the dispute's region.
3. Everything else → 人民调解 at the people's mediation committee of the dispute's region, 属地 first: community,
   then street, then district.
Within a rule the most local committee wins, then the least loaded (open disputes now), then the code.

Committees are accounts.OrgUnit rows of kind `committee`; `CommitteeRemit` says which channel and types one
takes (no row: people's mediation, every type). A committee covers a dispute when its region code is a prefix of
the dispute's (no region code: the whole city). Load = the disputes in an open state (before closed, refused,
referred, enforcement) per committee and per mediator, counted in the database with the (committee, state) and
(mediator, state) indexes: `suggest` is two queries, whatever the number of disputes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import get_language

from cityops.accounts.models import OrgUnit
from cityops.core import roles
from cityops.disputes.models import Dispute, Party
from cityops.disputes.workflow import OPEN_STATES

PEOPLE = Dispute.Channel.PEOPLE
COURT_INVITED = Dispute.Channel.COURT_INVITED
REGION_LENGTHS = (6, 9, 12, 14)  # district, street, community, grid
LOCAL_LEVELS = ("community", "street")  # 属地: resolved where the dispute arose
LEVEL_NAMES = {"community": ("社区", "community"), "street": ("街道", "street"), "district": ("区", "district"),
               "city": ("市", "city")}
# The types the issue names a specialised committee for (物业、劳动争议、医疗纠纷、交通事故): when none covers the
# region, the suggestion says so.
SPECIALISED_KINDS = (Dispute.Kind.PROPERTY, Dispute.Kind.LABOUR, Dispute.Kind.MEDICAL, Dispute.Kind.TRAFFIC)


class Reason(NamedTuple):
    """One reason for a suggestion, in both languages; str() gives the active language's."""

    zh: str
    en: str

    def __str__(self) -> str:
        return self.en if (get_language() or "").startswith("en") else self.zh


@dataclass
class Suggestion:
    channel: str
    committee: OrgUnit | None
    mediator: object | None  # a User
    reasons: list[Reason] = field(default_factory=list)

    def as_dict(self) -> dict:
        """For the API and the desk page's form: ids, names and the reasons in both languages."""
        return {
            "channel": self.channel,
            "channel_label": str(Dispute.Channel(self.channel).label) if self.channel else "",
            "committee_id": self.committee.pk if self.committee else None,
            "committee_name": self.committee.name if self.committee else "",
            "mediator_id": self.mediator.pk if self.mediator else None,
            "mediator_name": _person(self.mediator) if self.mediator else "",
            "reasons": [{"zh": r.zh, "en": r.en} for r in self.reasons],
        }


def _person(user) -> str:
    return user.first_name or user.username


def _kind_label(kind: str) -> str:
    try:
        return str(Dispute.Kind(kind).label)
    except ValueError:
        return kind


def region_prefixes(region_code: str) -> list[str]:
    """The codes of every region containing `region_code` (itself included) and "" (the whole city)."""
    return ["", *(region_code[:n] for n in REGION_LENGTHS if len(region_code) >= n)]


def _open_count(field_name: str):
    """The open disputes of the outer row's committee or mediator: a correlated count per row that reads the
    (committee, state) or (mediator, state) index — a join with a GROUP BY would scan every dispute."""
    open_disputes = (Dispute.objects.filter(**{field_name: OuterRef("pk")}, state__in=OPEN_STATES).order_by()
                     .values(field_name).annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(open_disputes, output_field=IntegerField()), 0)


def committees_covering(region_code: str):
    """Every active committee covering `region_code`, with its remit and `load` (open disputes now)."""
    return (OrgUnit.objects.filter(kind=OrgUnit.Kind.COMMITTEE, active=True,
                                   region_code__in=region_prefixes(region_code))
            .select_related("remit").annotate(load=_open_count("committee")).order_by("code"))


def committee_loads(region_code: str) -> list[OrgUnit]:
    """committees_covering, read: one query."""
    return list(committees_covering(region_code))


def remit_of(committee: OrgUnit) -> tuple[str, list[str]]:
    """(channel, kinds) of a committee; a committee without a remit row: people's mediation, every type."""
    remit = getattr(committee, "remit", None)
    if remit is None:
        return PEOPLE, []
    return remit.channel, list(remit.kinds or [])


def takes(committee: OrgUnit, channel: str, kind: str) -> bool:
    own_channel, kinds = remit_of(committee)
    return own_channel == channel and (not kinds or kind in kinds)


def _best(committees: list[OrgUnit]) -> OrgUnit | None:
    """The most local committee (longest region code), then the least loaded, then by code."""
    if not committees:
        return None
    return min(committees, key=lambda c: (-len(c.region_code or ""), c.load, c.code))


def _where(committee: OrgUnit) -> Reason:
    zh, en = LEVEL_NAMES[committee.level]
    return Reason(f"{committee.name}为{zh}级调解组织，当前在办 {committee.load} 件",
                  f"{committee.name} works at {en} level and has {committee.load} open disputes")


def suggest(dispute: Dispute) -> Suggestion:
    """The channel, committee and mediator to offer for `dispute` (see the module's rules), with the reasons."""
    reasons: list[Reason] = []
    region = dispute.region_code or ""
    if not region and dispute.centre_id:
        region = dispute.centre.region_code or ""
        reasons.append(Reason("纠纷未定位，按调处中心所在区域分流",
                              "The dispute has no location: routed within the centre's region"))
    committees = committee_loads(region)
    kind = dispute.kind
    kind_label = _kind_label(kind)
    people = [c for c in committees if takes(c, PEOPLE, kind)]

    channel, committee = PEOPLE, None
    if dispute.entrustment or dispute.source == Dispute.Source.COURT:
        channel = COURT_INVITED
        committee = _best([c for c in committees if takes(c, COURT_INVITED, kind)])
        reasons.append(Reason("法院委托（委派）调解，走司法（特邀）调解渠道",
                              "Entrusted by a court: court-invited mediation"))
        if committee is None:
            committee = _best(people)
            reasons.append(Reason("本区域无特邀调解组织，由属地人民调解委员会承接",
                                  "No court-invited committee covers the region: the local people's committee"))
    else:
        specialised = [c for c in committees if (remit := remit_of(c))[0] != PEOPLE and kind in remit[1]]
        if specialised:
            committee = _best(specialised)
            channel = remit_of(committee)[0]
            reasons.append(Reason(f"{kind_label}由专业调解组织调处：{committee.name}",
                                  f"A specialised committee takes this type ({kind}): {committee.name}"))
        else:
            committee = _best(people)
            if kind in SPECIALISED_KINDS:
                reasons.append(Reason(f"本区域无受理{kind_label}的专业调解组织，由属地人民调解委员会调处",
                                      f"No specialised committee for this type ({kind}) covers the region: "
                                      f"people's mediation where it arose"))
            else:
                reasons.append(Reason("人民调解，属地优先（社区、街道、区）",
                                      "People's mediation, where the dispute arose first (community, street, "
                                      "district)"))
    if committee is None:
        reasons.append(Reason("没有覆盖该区域的调解组织，请人工指定",
                              "No committee covers the region: choose one by hand"))
        return Suggestion(channel, None, None, reasons)
    reasons.append(_where(committee))
    mediator = suggest_mediator(committee, dispute)
    if mediator is None:
        reasons.append(Reason(f"{committee.name}暂无可指派的调解员", f"{committee.name} has no mediator to assign"))
    else:
        reasons.append(Reason(f"{_person(mediator)}在办纠纷最少（{mediator.load} 件）",
                              f"{_person(mediator)} has the fewest open disputes ({mediator.load})"))
    return Suggestion(channel, committee, mediator, reasons)


def suggest_mediator(committee: OrgUnit, dispute: Dispute | None = None):
    """The active mediator of `committee` with the fewest open disputes now (then the lowest id), never a party to
    `dispute` (回避: nobody mediates their own dispute); None when the committee has none. One query; the user
    carries `load`."""
    return mediators_by_load(committee, dispute).first()


def mediators_by_load(committee: OrgUnit, dispute: Dispute | None = None):
    """The committee's active mediators, least loaded first, without the dispute's parties."""
    users = (
        get_user_model().objects.filter(is_active=True, groups__name=roles.MEDIATOR, org_units=committee)
        .annotate(load=_open_count("mediator"))
        .order_by("load", "pk")
    )
    if dispute is not None and dispute.pk:
        users = users.exclude(pk__in=Party.objects.filter(dispute=dispute, user__isnull=False).values("user_id"))
        if dispute.applicant_id:
            users = users.exclude(pk=dispute.applicant_id)
    return users


def level_of(committee: OrgUnit | None) -> str:
    """The dispute's resolution level (Dispute.level) when routed to `committee`: the committee's own level."""
    return committee.level if committee is not None else ""
