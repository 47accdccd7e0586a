"""`cityops iot …`: ingest (MQTT consumer), simulate, import devices, issue a token, default rules, prune."""

import logging
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cityops.core.errors import CityopsError
from cityops.core.progress import item_logs, progress


class Command(BaseCommand):
    help = "物联感知 / IoT: ingest | simulate | import | token | rules | demo | prune | sweep"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)

        p = sub.add_parser("ingest", help="run the MQTT consumer (QoS 1, persistent session)")
        p.add_argument("--host")
        p.add_argument("--port", type=int)
        p.add_argument("--client-id", help="fixed client id: the broker keeps this consumer's session")
        p.add_argument("--shared-group", help="join a shared subscription $share/<group>/… with other consumers")
        p.add_argument("--topic-prefix")
        p.add_argument("--batch-max", type=int)
        p.add_argument("--flush-ms", type=int)

        p = sub.add_parser("simulate", help="publish realistic readings of demo devices over MQTT")
        p.add_argument("--devices", type=int, default=100)
        p.add_argument("--rate", type=float, default=50.0, help="readings per second, all devices together")
        p.add_argument("--duration", type=float, default=0, help="seconds; 0 = until interrupted")
        p.add_argument("--batch", type=int, default=1, help="readings per MQTT message")
        p.add_argument("--speed", type=float, default=60.0, help="scenario minutes per real minute")
        p.add_argument("--no-scenarios", action="store_true", help="normal readings only")
        p.add_argument("--host")
        p.add_argument("--port", type=int)

        p = sub.add_parser("import", help="import devices from CSV (code,type,name,lon,lat,address,department,category,metrics)")
        p.add_argument("csv", type=Path)

        p = sub.add_parser("token", help="issue an HTTP ingestion token for a device (shown once)")
        p.add_argument("code")

        sub.add_parser("rules", help="load the default rules of each device type")
        p = sub.add_parser("demo", help="demo devices across Wuhan and the default rules")
        p.add_argument("--devices", type=int, default=60)
        sub.add_parser("prune", help="apply retention to readings, rollups and dead letters")
        sub.add_parser("sweep", help="run the no-data rules once")

    def handle(self, *args, **opts):
        try:
            getattr(self, f"do_{opts['action']}")(opts)
        except CityopsError as exc:
            raise CommandError(f"{exc.message} / {exc.message_en}") from exc

    def do_ingest(self, opts):
        from cityops.core.security import ensure_safe_to_start
        from cityops.iot.mqtt import BrokerConfig, Consumer, broker_reachable

        ensure_safe_to_start(CommandError)
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO)
        broker = BrokerConfig.from_settings(host=opts["host"], port=opts["port"])
        if not broker_reachable(broker):
            raise CommandError(f"MQTT broker {broker.host}:{broker.port} 不可达 / is not reachable")
        consumer = Consumer(
            broker=broker, client_id=opts["client_id"], topic_prefix=opts["topic_prefix"],
            shared_group=opts["shared_group"], batch_max=opts["batch_max"], flush_ms=opts["flush_ms"],
        )
        consumer.install_signal_handlers()
        consumer.start()
        self.stdout.write(
            f"iot ingest: {broker.host}:{broker.port} topic {consumer.topic} client {consumer.client_id} "
            f"(QoS 1, persistent session)"
        )
        self.stdout.flush()
        try:
            consumer.run_forever()
        finally:
            consumer.stop(drain=True)
            self.stdout.write(f"iot ingest stopped: {dict(consumer.ingestor.stats)}")

    def do_simulate(self, opts):
        item_logs(opts["verbosity"])
        from cityops.iot.mqtt import BrokerConfig
        from cityops.iot.simulate import simulate

        broker = BrokerConfig.from_settings(host=opts["host"], port=opts["port"])
        total = opts["duration"] or None  # without a duration it runs until Ctrl-C: elapsed time only
        with progress(self.stdout, "模拟传感器 / simulated sensors", total=total) as step:
            done = [0.0]

            def tick(published, seconds):
                step(seconds - done[0], description=f"模拟传感器：已发送 {published} 条 / simulated sensors: {published} sent")
                done[0] = seconds

            stats = simulate(
                broker=broker, devices=opts["devices"], rate=opts["rate"], duration=opts["duration"],
                batch=opts["batch"], speed=opts["speed"], scenarios=not opts["no_scenarios"], stdout=step, tick=tick,
            )
        self.stdout.write(f"published: {stats}")

    def do_import(self, opts):
        from cityops.iot.services import device_import_csv

        result = device_import_csv(actor=None, text=opts["csv"].read_text(encoding="utf-8"))
        self.stdout.write(f"created {result.created}, updated {result.updated}, errors {len(result.errors)}")
        for line in result.errors:
            self.stderr.write(line)
        if result.errors:
            sys.exit(1)

    def do_token(self, opts):
        from cityops.iot.models import Device
        from cityops.iot.services import device_token_issue

        device = Device.objects.filter(code=opts["code"]).first()
        if device is None:
            raise CommandError(f"未找到设备 {opts['code']} / no such device")
        self.stdout.write(device_token_issue(device=device, actor=None))

    def do_rules(self, opts):
        from cityops.iot.services import rule_defaults_load

        self.stdout.write(f"rules created: {rule_defaults_load()}")

    def do_demo(self, opts):
        from cityops.iot.demo import load_demo

        self.stdout.write(str(load_demo(devices=opts["devices"])))

    def do_prune(self, opts):
        from cityops.iot.services import retention_apply

        self.stdout.write(str(retention_apply()))

    def do_sweep(self, opts):
        from cityops.iot.ingest import Ingestor

        self.stdout.write(str(dict(Ingestor().sweep_silent())))
