from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "cityops.geo"
    label = "geo"
    verbose_name = "地理网格"

    def load_demo(self, stdout) -> str:
        """The demo city's regions (core.demo)."""
        from cityops.geo.demo import load_demo_geography

        return f"regions: {load_demo_geography(stdout=stdout)}"
