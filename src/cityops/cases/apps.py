from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cityops.cases"
    label = "cases"
    verbose_name = "城市事件"

    # The home page (core.home): the cards of each role's work with live counts, and today's city figures.
    def home_cards(self, user) -> list:
        from cityops.cases.home import home_cards

        return home_cards(user)

    def home_figures(self, user) -> list:
        from cityops.cases.home import home_figures

        return home_figures(user)

    # The demo city (core.demo): the category taxonomy, and simulated traffic.
    def load_demo(self, stdout) -> str:
        from cityops.cases.demo import load_demo

        return load_demo()

    def load_demo_history(self, stdout, hours: float) -> None:
        from cityops.cases.demo import load_demo_history

        load_demo_history(stdout=stdout, hours=hours)
