from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cityops.core"
    label = "core"
    verbose_name = "核心"
