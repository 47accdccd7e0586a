from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StabilityConfig(AppConfig):
    name = "cityops.stability"
    label = "stability"
    verbose_name = "重大决策社会稳定风险评估"
    api_prefix = "stability"
    url_prefix = "stability/"

    def home_cards(self, user) -> list:
        """The assessing staff's decisions waiting for a step, and the leaders' view of every assessment."""
        from django.db.models import Count, Q

        from cityops.core import roles
        from cityops.core.home import Card
        from cityops.stability import selectors
        from cityops.stability import workflow as flow

        if user.is_superuser or user.role_codes & {roles.LEADER, roles.ADMIN}:
            open_ = selectors.decision_list(user=user).exclude(state__in=("closed", "withdrawn"))
            return [Card(_("重大决策稳评"), _("在评、征求意见中和跟踪监测中的重大决策"), "/stability/", count=open_.count(),
                         order=60)]
        if not (user.is_authenticated and user.role_codes & flow.UNIT_STAFF_ROLES and user.org_unit_ids):
            return []
        units = list(user.org_unit_ids)
        mine = (selectors.decision_list(user=user).exclude(state__in=("closed", "withdrawn"))
                .filter(Q(assessing_unit_id__in=units) | Q(proposing_unit_id__in=units)))
        got = mine.aggregate(n=Count("id"), late=Count("id", filter=Q(overdue=True)))
        if not got["n"]:
            return []
        return [Card(_("稳评待办"), _("本单位的重大决策稳评：风险清单、征求意见、评估定级、决策"), "/stability/",
                     count=got["n"], late=got["late"], order=60)]

    def dashboard_layers(self, user) -> list:
        """稳评决策区域 on the dashboard's map (dashboard/layers.py): the decisions in consultation or monitoring the
        user may read, with their areas. Replaces the dashboard's built-in layer of the same key."""
        from django.apps import apps

        if not apps.is_installed("cityops.dashboard"):
            return []
        from cityops.stability.layers import dashboard_layers

        return dashboard_layers(user)

    def load_demo(self, stdout) -> str | None:
        from cityops.stability.demo import load_demo

        return load_demo()

    # `cityops simulate` (cases.simulation): residents' comments on the decisions in consultation, on its clock.
    def simulate(self, sim) -> None:
        from cityops.stability.simulation import schedule

        schedule(sim)

    def load_demo_users(self, stdout) -> str | None:
        from cityops.stability.demo import load_demo_decisions

        return load_demo_decisions()

    def demo_usernames(self) -> list[str]:
        from cityops.stability.demo import DEMO_USERS

        return list(DEMO_USERS)
