"""Evaluation of dispute resolution (issue 14 "Evaluation"): per centre, committee and mediator, and per screening
campaign — counted from the timeline (core_timelineentry, subject_type "disputes.dispute") with grouped SQL, never
a loop over disputes.

Every step is charged to whoever held the dispute when it was taken: the engine stamps the centre, the committee
(`unit`), the mediator, the level of the committee and `on_time` on each transition's entry (Dispute.
evaluation_fields), as they stood at that moment. For entries whose `at` lies in [start, end]:

- 调解成功率 (success_rate) = agreements / mediations finished: `agree` entries / `agree` + `terminate` entries and
  refusals (`refuse`) taken while mediating. A mediation escalated to the police is not finished: it may resume.
- 按期调解率 (on_time_rate) = agreements reached within the mediation limit (the `on_time` stamp of the `agree`
  entry: 30 days, 15 or 7 when the court entrusted it, plus any extension both parties consented to) / agreements.
- 司法确认率 (confirmation_rate) = those agreements the court has confirmed since (a `confirm` entry after the
  agreement, whenever) / agreements.
- 履行率 (performance_rate) = those agreements performed since (`perform`) / those whose performance is known:
  performed, sent to enforcement (`enforce`) or found unperformed (`breach`, the parties told to go to court).
- escalations: `escalate` entries (§25), charged to whoever held the dispute (before routing: its centre only).
- 属地化解率 (local_rate) = agreements reached by a community- or street-level committee (the `level` stamp, the
  committee's level set when the centre routed it) / agreements.
A rate whose denominator is 0 is None (shown as "—").

Per campaign (排查化解行动), from the campaign's own figures (campaigns.campaign_figures): coverage = distinct
households visited / households (户数, geo.Region.households) of the campaign's regions (None when unknown);
yield = disputes tagged with the campaign + city cases found on its visits, per 100 visits.

Who sees what: leaders and admins every row; the centre's staff the rows of their centre's disputes; a mediator
their committee's row and their own.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cityops.accounts.models import OrgUnit
from cityops.core import roles
from cityops.core.errors import Forbidden, InvalidInput
from cityops.core.models import TimelineEntry
from cityops.core.schemas import EARLIEST, LATEST

SUBJECT = "disputes.dispute"
LOCAL_LEVELS = ("community", "street")
FINISHED = Q(action__in=("agree", "terminate")) | Q(action="refuse", from_state="mediating")
OUTCOMES = ("perform", "enforce", "breach")
MAX_DAYS = 3660  # a period of ten years at most
GROUPS = {"centre": "centre", "committee": "unit", "mediator": "mediator"}  # row kind → stamp key
NO_ONE = _("（未指定）")


def period(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in local time: both days inclusive. Refuses a reversed or too long period."""
    if not (EARLIEST <= start <= LATEST and EARLIEST <= end <= LATEST):  # 9999-12-31 + 1 day overflows
        raise InvalidInput(f"日期须在 {EARLIEST} 与 {LATEST} 之间", f"Dates must lie between {EARLIEST} and {LATEST}",
                           code="invalid_period")
    if end < start:
        raise InvalidInput("结束日期不能早于开始日期", "The end date is before the start date", code="invalid_period")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput("统计区间不能超过十年", "The period cannot be longer than ten years", code="invalid_period")
    tz = timezone.get_current_timezone()
    return datetime.combine(start, time.min, tz), datetime.combine(end + timedelta(days=1), time.min, tz)


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# --- who sees what -----------------------------------------------------------------------------------------
class Scope:
    """The entries a user's evaluation counts and the rows it shows."""

    def __init__(self, user):
        codes = user.role_codes if user.is_authenticated else frozenset()
        self.all = bool(codes & {roles.LEADER, roles.ADMIN})
        self.centres: list[str] = []
        self.committees: list[str] = []
        self.mediator_id = None
        if not self.all:
            units = list(OrgUnit.objects.filter(pk__in=user.org_unit_ids).values_list("code", "kind"))
            if roles.CENTRE_STAFF in codes:
                self.centres = [code for code, kind in units if kind == OrgUnit.Kind.CENTRE]
            if roles.MEDIATOR in codes:
                self.committees = [code for code, kind in units if kind == OrgUnit.Kind.COMMITTEE]
                self.mediator_id = user.pk
            if not self.centres and not self.committees:
                raise Forbidden("只有领导、调处中心工作人员和调解员可以查看调解评价",
                                "Only leaders, the centre's staff and mediators may read the mediation evaluation",
                                code="evaluation_not_allowed")

    def entries(self, qs):
        if self.all:
            return qs
        q = Q(params__centre__in=self.centres) if self.centres else Q(pk__in=[])
        if self.committees:
            q |= Q(params__unit__in=self.committees)
        return qs.filter(q)

    def shows(self, kind: str, key: str) -> bool:
        """Whether the row of `kind` keyed `key` (a stamp value) is the user's to see."""
        if self.all:
            return True
        if kind == "centre":
            return key in self.centres
        if self.centres:  # the centre's staff: every committee and mediator of their centre's disputes
            return True
        if kind == "committee":
            return key in self.committees
        return key == str(self.mediator_id)


# --- the counts --------------------------------------------------------------------------------------------
def _entries(lo: datetime, hi: datetime):
    return TimelineEntry.objects.filter(subject_type=SUBJECT, at__gte=lo, at__lt=hi)


def _later(actions) -> Exists:
    """An entry of the same dispute with one of `actions`, after the outer (agree) entry."""
    return Exists(TimelineEntry.objects.filter(subject_type=SUBJECT, subject_id=OuterRef("subject_id"),
                                               action__in=actions, seq__gt=OuterRef("seq")))


def _count(entries, key: str) -> dict[str, dict]:
    """The counts of one row kind, grouped by the stamp `key`: two grouped queries."""
    stamp = KT(f"params__{key}")
    rows: dict[str, dict] = defaultdict(lambda: dict.fromkeys(
        ("finished", "agreements", "on_time", "escalations", "confirmed", "performed", "outcome_known", "local"),
        0))
    for r in (entries.filter(FINISHED | Q(action="escalate")).values(k=stamp).order_by()
              .annotate(finished=Count("id", filter=FINISHED),
                        agreements=Count("id", filter=Q(action="agree")),
                        on_time=Count("id", filter=Q(action="agree", params__on_time=True)),
                        escalations=Count("id", filter=Q(action="escalate")))):
        rows[_key(r["k"])].update({k: r[k] for k in ("finished", "agreements", "on_time", "escalations")})
    agreed = (entries.filter(action="agree")
              .annotate(is_confirmed=_later(("confirm",)), is_performed=_later(("perform",)),
                        is_known=_later(OUTCOMES)))
    for r in (agreed.values(k=stamp).order_by()
              .annotate(confirmed=Count("id", filter=Q(is_confirmed=True)),
                        performed=Count("id", filter=Q(is_performed=True)),
                        outcome_known=Count("id", filter=Q(is_known=True)),
                        local=Count("id", filter=Q(params__level__in=LOCAL_LEVELS)))):
        rows[_key(r["k"])].update({k: r[k] for k in ("confirmed", "performed", "outcome_known", "local")})
    return rows


def _key(value) -> str:
    # A missing stamp, "" and (read as text on SQLite) a JSON null are all "no one".
    return "" if value in (None, "null") else str(value)


def _rates(row: dict) -> dict:
    return {
        "success_rate": rate(row["agreements"], row["finished"]),
        "on_time_rate": rate(row["on_time"], row["agreements"]),
        "confirmation_rate": rate(row["confirmed"], row["agreements"]),
        "performance_rate": rate(row["performed"], row["outcome_known"]),
        "local_rate": rate(row["local"], row["agreements"]),
    }


def _unit_names(codes) -> dict[str, str]:
    english = (get_language() or "").startswith("en")
    return {code: (name_en if english and name_en else name) for code, name, name_en in
            OrgUnit.objects.filter(code__in=[c for c in codes if c]).values_list("code", "name", "name_en")}


def _people(keys) -> dict[str, str]:
    ids = [int(k) for k in keys if k.isdigit()]
    return {str(pk): first or username for pk, first, username in
            get_user_model().objects.filter(pk__in=ids).values_list("pk", "first_name", "username")}


def evaluate(*, user, start: date, end: date) -> dict:
    """The rows of the period [start, end] (both days inclusive) the user may read: {"centres", "committees",
    "mediators", "campaigns"}, each row with its name, counts and rates."""
    scope = Scope(user)
    lo, hi = period(start, end)
    entries = scope.entries(_entries(lo, hi))
    out = {}
    for kind, key in GROUPS.items():
        rows = {k: v for k, v in _count(entries, key).items() if scope.shows(kind, k)}
        if kind != "centre":
            rows.pop("", None)  # not routed or not assigned yet: counted in its centre's row only
        names = _people(rows) if kind == "mediator" else _unit_names(rows)
        listed = [{"key": k, "name": names.get(k) or k or str(NO_ONE), **row, **_rates(row)}
                  for k, row in rows.items()]
        listed.sort(key=lambda r: (-r["agreements"], -r["finished"], r["name"]))
        out[f"{kind}s"] = listed
    # Campaigns are the centre's and the city's work, not a committee's.
    out["campaigns"] = campaign_rows(user=user, start=start, end=end) if scope.all or scope.centres else []
    return out


# --- campaigns ---------------------------------------------------------------------------------------------
def campaign_rows(*, user, start: date, end: date) -> list[dict]:
    """The campaigns running in the period that the user may read (campaigns.campaign_list), with their coverage
    and yield from the campaign's own figures (campaigns.campaign_figures)."""
    from cityops.disputes import campaigns

    rows = []
    for c in campaigns.campaign_list(user=user).filter(starts_on__lte=end, ends_on__gte=start).order_by(
            "-starts_on", "code"):
        f = campaigns.campaign_figures(c)
        found = f.disputes_found + f.cases_found
        rows.append({
            "key": c.code, "name": c.name, "starts_on": c.starts_on, "ends_on": c.ends_on, "visits": f.visits,
            "households_visited": f.households_visited, "households": f.households,
            "households_estimated": f.households_estimated,
            "coverage": None if f.coverage is None else round(f.coverage, 4),
            "disputes_found": f.disputes_found, "cases_found": f.cases_found,
            "yield_per_100": round(found * 100 / f.visits, 2) if f.visits else None,
        })
    return rows
