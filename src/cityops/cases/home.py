"""The cases app on the home page (core.home): a card per piece of work a role comes to do, with a live count of
what waits there and how much of it is overdue — one COUNT query per card, through the same selectors (so the
same scope) as the page the card opens — and, for the leader and the system admin, the city's figures of today."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cityops.cases import selectors
from cityops.cases.models import Case
from cityops.cases.supervision import selectors as supervision_selectors
from cityops.cases.workflow import OPEN_STATES
from cityops.core import roles
from cityops.core.home import Card, Figure, percent
from cityops.core.models import TimelineEntry

# What waits for a decision at a command centre (退回、延期、挂账 requests), as the approvals page lists them.
DISPATCH_DECISIONS = ("returned", "extension_requested", "suspend_requested")
# Open cases (not waiting for the follow-up, not terminal) past their deadline: the list the overdue figures open.
OVERDUE_URL = "/cases/?overdue=1&state=" + ",".join(OPEN_STATES)


def late_q(now=None) -> Q:
    """Overdue: marked so by the sweep, or past a running deadline (a paused clock has no deadline)."""
    return Q(overdue=True) | Q(deadline_at__lt=now or timezone.now(), clock_paused_at__isnull=True)


def waiting(qs: QuerySet) -> tuple[int, int]:
    """(how many, of which overdue) in one query."""
    got = qs.order_by().aggregate(n=Count("pk"), late=Count("pk", filter=late_q()))
    return got["n"], got["late"]


def _card(title, text, url, qs, order) -> Card:
    n, late = waiting(qs)
    return Card(title, text, url, count=n, late=late, order=order)


def _cases(user, state: str) -> QuerySet[Case]:
    return selectors.case_list(user=user, filters={"state": state})


def home_cards(user) -> list[Card]:
    codes = user.role_codes
    cards: list[Card] = []
    if roles.OPERATOR in codes or roles.GRID_WORKER in codes:
        cards.append(Card(_("上报受理"), _("登记热线来电与市民上报，拍照上报或当场处置"), "/cases/new/", order=15))
    if roles.OPERATOR in codes:
        cards.append(_card(_("待立案"), _("核对上报并立案"), "/cases/?state=reported", _cases(user, "reported"), 20))
    if codes & {roles.OPERATOR, roles.SHIFT_LEAD}:
        cards.append(_card(_("待回访"), _("回访市民，满意归档、不满意重办"), "/cases/?state=closed", _cases(user, "closed"), 60))
    if roles.SHIFT_LEAD in codes:
        cards.append(_card(_("待审批"), _("作废申请的审批"), "/cases/approvals/", _cases(user, "void_requested"), 30))
        cards.append(_card(_("待结案"), _("核查通过的案件"), "/cases/?state=verified", _cases(user, "verified"), 31))
    if codes & {roles.DISPATCHER, roles.DISTRICT_DISPATCHER}:
        text = _("把区级案件派给区级部门和街道，或上报市级") if roles.DISPATCHER not in codes else _("把案件派给专业部门")
        cards.append(_card(_("派遣队列"), text, "/cases/dispatch/", selectors.dispatch_queue(user=user), 10))
        decisions = Case.objects.none()
        for state in DISPATCH_DECISIONS:
            decisions |= selectors.approval_list(user=user, state=state)
        cards.append(_card(_("退回与延期申请"), _("审批退回、延期、挂账"), "/cases/approvals/", decisions, 11))
    if codes & {roles.DEPT_HANDLER, roles.DEPT_LEAD}:
        cards.append(_card(_("本部门待办"), _("按时限排序，红黄绿灯提示"), "/cases/queue/", selectors.department_queue(user=user), 10))
    if roles.REGION_STAFF in codes:
        cards.append(_card(_("本级待办"), _("认领、处置或上报在本街道/社区等待的案件"), "/cases/level/", selectors.level_queue(user=user), 10))
        cards.append(Card(_("辖区案件"), _("本街道社区的案件"), "/cases/", order=70))
    if roles.GRID_WORKER in codes:
        checking, handled = _cases(user, "checking"), _cases(user, "handled")
        cards.append(_card(_("待核实"), _("核实上报是否属实"), "/cases/tasks/", checking, 10))
        cards.append(_card(_("待核查"), _("现场核查处置结果"), "/cases/tasks/", handled, 11))
    if codes & supervision_selectors.QUEUE_ROLES:
        cards.append(_card(_("督办队列"), _("催办、督办、挂牌督办的督办单"), "/cases/supervision/",
                           supervision_selectors.supervision_queue(user=user), 40))
    if codes & supervision_selectors.UNIT_STAFF_ROLES and user.org_unit_ids:
        cards.append(_card(_("督办待回复"), _("本单位须答复的督办单"), "/cases/supervision/inbox/",
                           supervision_selectors.unit_inbox(user=user), 41))
    if roles.SUPERVISOR in codes:
        overdue = selectors.case_list(user=user).filter(late_q(), state__in=OPEN_STATES)
        cards.append(Card(_("超期案件"), _("在办超期案件的催办与通报"), OVERDUE_URL, count=overdue.order_by().count(), order=42))
    if roles.LEADER in codes:
        cards.append(Card(_("综合评价"), _("部门、区域、岗位考核排名"), "/cases/evaluation/", order=80))
    if codes & {roles.LEADER, roles.ADMIN}:
        cards.append(Card(_("全部案件"), _("全市案件一览"), "/cases/", order=81))
    return cards


FIGURE_WATCHERS = frozenset({roles.LEADER, roles.ADMIN})


def home_figures(user, now=None) -> list[Figure]:
    """The city's figures of today (local time) for the leader and the system admin: intake, open cases overdue
    now, the on-time rate of the cases handled today and the satisfaction of today's follow-ups."""
    if not user.role_codes & FIGURE_WATCHERS:
        return []
    now = timezone.localtime(now or timezone.now())
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1)
    intake = Case.objects.filter(created_at__gte=start, created_at__lt=end).count()
    overdue = Case.objects.filter(late_q(now), state__in=OPEN_STATES).count()
    today = TimelineEntry.objects.filter(subject_type=Case._meta.label_lower, at__gte=start, at__lt=end)
    got = today.aggregate(
        handled=Count("pk", filter=Q(action__in=("handle", "self_handle"))),
        handled_late=Count("pk", filter=Q(action__in=("handle", "self_handle"), params__on_time=False)),
        satisfied=Count("pk", filter=Q(action="follow_up")),
        unsatisfied=Count("pk", filter=Q(action="reopen")),
    )
    followed = got["satisfied"] + got["unsatisfied"]
    return [
        Figure(_("今日受理"), str(intake), url=f"/cases/?from={start:%Y-%m-%d}&to={start:%Y-%m-%d}"),
        Figure(_("超期在办"), str(overdue), url=OVERDUE_URL, alert=overdue > 0),
        Figure(_("今日按时办结率"), percent(got["handled"] - got["handled_late"], got["handled"]),
               hint=gettext("今日办结 %(n)d 件") % {"n": got["handled"]}),
        Figure(_("今日满意率"), percent(got["satisfied"], followed),
               hint=gettext("今日回访 %(n)d 件") % {"n": followed}),
    ]

