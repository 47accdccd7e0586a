from django.apps import AppConfig


class HotlineConfig(AppConfig):
    name = "cityops.hotline"
    label = "hotline"
    verbose_name = "热线受理与智能派单"

    def load_demo(self, stdout) -> str:
        """A trained classifier for the demo city (core.demo)."""
        from cityops.hotline.demo import load_demo

        return load_demo()
