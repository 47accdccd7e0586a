from django.apps import AppConfig


class DisputesConfig(AppConfig):
    """矛盾纠纷多元化解 (RULES.md §2): the one-stop centre, its committees and mediators, screening campaigns and
    door-knocking visits. Pages at /disputes/, API at /api/v1/disputes/."""

    name = "cityops.disputes"
    label = "disputes"
    verbose_name = "矛盾纠纷多元化解"
    api_prefix = "disputes"
    url_prefix = "disputes/"
