"""The early warning's card on the home page (core.home) of the people who deal with warnings, and of leaders: one
COUNT in the user's scope (selectors.warnings_in_scope)."""

from django.utils.translation import gettext_lazy as _

from cityops.core import roles

DUTY = frozenset({roles.SHIFT_LEAD, roles.DISPATCHER, roles.DISTRICT_DISPATCHER})


def home_cards(user) -> list:
    from cityops.core.home import Card
    from cityops.dashboard.selectors import warnings_in_scope
    from cityops.dashboard.workflow import OPEN_STATES

    if not user.is_authenticated:
        return []
    scoped = warnings_in_scope(user=user)
    if user.role_codes & DUTY:  # what waits for them: warnings nobody has acknowledged yet
        return [Card(_("异常预警"), _("确认案件数量的异常增多，研判处置"), "/dashboard/warnings/",
                     count=scoped.filter(state="open").count(), order=15)]
    if roles.LEADER in user.role_codes:
        return [Card(_("异常预警"), _("案件数量异常增多的类别与区域"), "/dashboard/warnings/",
                     count=scoped.filter(state__in=OPEN_STATES).count(), order=40)]
    return []
