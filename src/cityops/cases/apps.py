from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cityops.cases"
    label = "cases"
    verbose_name = "城市事件"

    # The demo city (core.demo): the category taxonomy, and simulated traffic.
    def load_demo(self, stdout) -> str:
        from cityops.cases.demo import load_demo

        return load_demo()

    def load_demo_history(self, stdout, hours: float) -> None:
        from cityops.cases.demo import load_demo_history

        load_demo_history(stdout=stdout, hours=hours)
