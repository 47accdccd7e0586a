from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GeoConfig(AppConfig):
    name = "cityops.geo"
    label = "geo"
    verbose_name = "地理网格"

    def home_cards(self, user) -> list:
        from cityops.core import roles
        from cityops.core.home import Card

        if roles.ADMIN not in user.role_codes:
            return []
        return [Card(_("地图"), _("区划与网格"), "/geo/", order=91)]

    def load_demo(self, stdout) -> str:
        """The demo city's regions (core.demo)."""
        from cityops.geo.demo import load_demo_geography

        return f"regions: {load_demo_geography(stdout=stdout)}"
