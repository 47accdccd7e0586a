from django.apps import AppConfig


class Open311Config(AppConfig):
    name = "cityops.open311"
    label = "open311"
    verbose_name = "Open311 接口"

    def ready(self) -> None:
        from cityops.core import edge
        from cityops.open311.views import error_document

        edge.ERROR_RENDERERS["/open311/"] = error_document
