from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "cityops.geo"
    label = "geo"
    verbose_name = "地理网格"
