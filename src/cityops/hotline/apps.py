from django.apps import AppConfig


class HotlineConfig(AppConfig):
    name = "cityops.hotline"
    label = "hotline"
    verbose_name = "热线受理与智能派单"
