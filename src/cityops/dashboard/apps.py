from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """一图展示 (issue 15): the command centre's screen — for now its early warning (预测预防): anomaly detection on
    case counts per category and region (early_warning.py), the warnings it raises (models.EarlyWarning) and their
    list. The map, the KPIs and the briefings join this app later. Pages at /dashboard/, API at
    /api/v1/dashboard/."""

    name = "cityops.dashboard"
    label = "dashboard"
    verbose_name = "一图展示"
    api_prefix = "dashboard"
    url_prefix = "dashboard/"

    # The home page (core.home): the open early warnings of the user's area, for the people who deal with them.
    def home_cards(self, user) -> list:
        from cityops.dashboard.briefing_views import briefing_home_cards
        from cityops.dashboard.warning_home import home_cards

        return home_cards(user) + briefing_home_cards(user)

    def ready(self):
        from cityops.dashboard import live  # noqa: F401 - connects the live feed to the timeline (entry_appended)
