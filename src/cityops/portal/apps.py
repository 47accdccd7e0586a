from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "cityops.portal"
    label = "portal"
    verbose_name = "市民门户"
