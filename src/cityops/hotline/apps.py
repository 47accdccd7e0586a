from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HotlineConfig(AppConfig):
    name = "cityops.hotline"
    label = "hotline"
    verbose_name = "热线受理与智能派单"

    def home_cards(self, user) -> list:
        """The call screen on the home page (core.home) of those who take calls."""
        from cityops.core import roles
        from cityops.core.home import Card

        if not user.role_codes & {roles.OPERATOR, roles.SHIFT_LEAD}:
            return []
        return [Card(_("热线受理"), _("来电转工单：智能分类、地址解析、一键派单"), "/hotline/", order=5)]

    def warm_up(self) -> None:
        """Load what the first suggestion needs — the classifier, the category table, the address parser — so
        that the first call after start is as fast as the next (`cityops serve` calls this in each web worker
        before it serves; never in tests or migrations). A failure only logs: the first call then loads it."""
        import logging

        from cityops.hotline import selectors

        try:
            selectors.suggest(text="小区门口井盖缺失", address="武昌区")
        except Exception:
            logging.getLogger(__name__).warning("hotline warm-up failed; the first suggestion will load the model",
                                                exc_info=True)

    def load_demo(self, stdout) -> str:
        """A trained classifier for the demo city (core.demo)."""
        from cityops.hotline.demo import load_demo

        return load_demo()
