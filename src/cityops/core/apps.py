from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cityops.core"
    label = "core"
    verbose_name = "核心"

    def ready(self):
        from cityops.core import security  # noqa: F401  (registers the start-up checks)
