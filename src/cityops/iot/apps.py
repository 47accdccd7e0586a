from django.apps import AppConfig


class IotConfig(AppConfig):
    name = "cityops.iot"
    label = "iot"
    verbose_name = "物联感知"

    def consumer_command(self, stdout=None) -> list[str] | None:
        """`cityops run` starts this long-running consumer beside the web server and the worker (MQTT ingestion,
        when a broker is reachable)."""
        from cityops.iot.mqtt import consumer_command

        return consumer_command(stdout)

    def load_demo(self, stdout) -> str:
        """The demo city's devices and default rules (core.demo)."""
        from cityops.iot.demo import load_demo

        return str(load_demo())
