from django.apps import AppConfig


class IotConfig(AppConfig):
    name = "cityops.iot"
    label = "iot"
    verbose_name = "物联感知"
