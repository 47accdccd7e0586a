from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Who watches the sensors: their home page shows the open alarms in their scope (core.home).
WATCHERS = frozenset({"operator", "dispatcher", "shift_lead", "leader", "admin", "dept_handler", "dept_lead"})


class IotConfig(AppConfig):
    name = "cityops.iot"
    label = "iot"
    verbose_name = "物联感知"

    def home_cards(self, user) -> list:
        """Open alarms in the user's scope on the home page (core.home), for the roles that watch the sensors."""
        from cityops.core.home import Card
        from cityops.iot.selectors import alarm_list

        if not user.role_codes & WATCHERS:
            return []
        count = alarm_list(user=user, open_only=True).order_by().count()
        return [Card(_("物联感知告警"), _("传感器告警：确认、转案件、关闭"), "/iot/alarms/?open=1", count=count, order=50)]

    def consumer_command(self, stdout=None) -> list[str] | None:
        """`cityops run` starts this long-running consumer beside the web server and the worker (MQTT ingestion,
        when a broker is reachable)."""
        from cityops.iot.mqtt import consumer_command

        return consumer_command(stdout)

    def load_demo(self, stdout) -> str:
        """The demo city's devices and default rules (core.demo)."""
        from cityops.iot.demo import load_demo

        return str(load_demo())
