"""The cards of the disputes work on each user's home page (core.home): one COUNT each, in the user's scope
(selectors.dispute_list)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cityops.core import roles


def home_cards(user) -> list:
    from cityops.core.home import Card
    from cityops.disputes import selectors

    if not user.is_authenticated:
        return []
    codes = user.role_codes
    cards = []
    scoped = selectors.dispute_list(user=user)
    if codes & {roles.CENTRE_STAFF, roles.ADMIN}:
        cards.append(Card(_("待受理纠纷"), _("确认分流：渠道与调解组织"), "/disputes/?state=registered",
                          count=scoped.filter(state="registered").count(), order=30))
    if roles.MEDIATOR in codes:
        cards.append(Card(_("我的调解"), _("指派给我的在办纠纷"), "/disputes/queue/",
                          count=scoped.filter(mediator_id=user.pk, state__in=selectors.OPEN_STATES).count(),
                          order=30))
    if roles.POLICE_LIAISON in codes:
        cards.append(Card(_("升级纠纷"), _("可能激化的矛盾纠纷，请立即处置"), "/disputes/?state=escalated",
                          count=scoped.filter(state="escalated").count(), order=20))
    if roles.LEADER in codes:
        cards.append(Card(_("高风险纠纷"), _("在办的高风险与已升级矛盾纠纷"), "/disputes/?risk_level=high",
                          count=scoped.filter(risk_level="high", state__in=selectors.OPEN_STATES).count(), order=40))
    if roles.OPERATOR in codes:
        cards.append(Card(_("热线转纠纷"), _("在案件页面将来电转为矛盾纠纷"), "/disputes/?source=hotline", order=60))
    if roles.RESIDENT in codes and not codes - {roles.RESIDENT}:
        cards.append(Card(_("我的纠纷"), _("申请调解、查看进度"), "/disputes/mine/",
                          count=selectors.own_disputes(user=user).filter(state__in=selectors.OPEN_STATES).count(),
                          order=40))
    from cityops.disputes.campaign_views import campaign_home_cards  # 今日走访, 排查化解行动 (campaigns)

    return cards + campaign_home_cards(user)
