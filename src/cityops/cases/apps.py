from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cityops.cases"
    label = "cases"
    verbose_name = "城市事件"
