from django.apps import AppConfig


class DisputesConfig(AppConfig):
    """矛盾纠纷多元化解 (RULES.md §2): the one-stop centre, its committees and mediators, screening campaigns and
    door-knocking visits. Pages at /disputes/, API at /api/v1/disputes/."""

    name = "cityops.disputes"
    label = "disputes"
    verbose_name = "矛盾纠纷多元化解"
    api_prefix = "disputes"
    url_prefix = "disputes/"

    # The home page (core.home): the cards of each role's work here, with live counts.
    def home_cards(self, user) -> list:
        from cityops.disputes.home import home_cards

        return home_cards(user)

    # The demo city (core.demo): the centre, its committees and mediators, referring bodies, a campaign.
    def load_demo(self, stdout) -> str:
        from cityops.disputes.demo import load_demo

        return load_demo()

    def load_demo_users(self, stdout) -> str:
        from cityops.disputes.demo import load_demo_users

        users = load_demo_users()
        for username, label in users:
            stdout.write(f"  {username:<20} {label}")
        return f"{len(users)} dispute resolution logins ready" if users else ""

    def demo_usernames(self) -> list[str]:
        from cityops.disputes.demo import demo_usernames

        return demo_usernames()

    # `cityops simulate` (cases.simulation): dispute traffic on the same simulated clock as the city's cases.
    def simulate(self, sim) -> None:
        from cityops.disputes.simulation import schedule

        schedule(sim)

    def load_demo_history(self, stdout, hours: float) -> None:
        from cityops.disputes.demo import load_demo_history

        load_demo_history(stdout=stdout, hours=hours)
