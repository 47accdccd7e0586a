from django.core.management.base import BaseCommand, CommandError

from cityops.core.errors import CityopsError
from cityops.open311.models import Open311Client
from cityops.open311.services import attributes_load, client_create, client_revoke


class Command(BaseCommand):
    help = "Open311 客户端 api_key 管理 / Open311 client keys: key create|list|revoke"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="sub", required=True)
        key = sub.add_parser("key", help="api keys of Open311 clients")
        keys = key.add_subparsers(dest="action", required=True)
        create = keys.add_parser("create", help="create a client and print its api_key once")
        create.add_argument("--name", required=True)
        create.add_argument("--contact", default="")
        create.add_argument("--rate", type=int, default=None, help="POST requests per minute (default: setting)")
        keys.add_parser("list")
        revoke = keys.add_parser("revoke")
        revoke.add_argument("--name", required=True)
        attrs = sub.add_parser("attributes", help="service definitions")
        attrs.add_subparsers(dest="action", required=True).add_parser("load", help="load the shipped attributes")

    def handle(self, *args, **opts):
        try:
            getattr(self, f"_{opts['action']}")(opts)
        except CityopsError as exc:
            raise CommandError(str(exc)) from exc

    def _create(self, opts):
        client, key = client_create(name=opts["name"], contact=opts["contact"])
        if opts["rate"] is not None:
            client.rate_limit_per_minute = opts["rate"]
            client.save(update_fields=["rate_limit_per_minute"])
        self.stdout.write(key)

    def _load(self, opts):
        self.stdout.write(f"attributes created: {attributes_load()}")

    def _list(self, opts):
        for c in Open311Client.objects.order_by("name"):
            state = "revoked" if c.revoked_at else "active"
            self.stdout.write(f"{c.name}\t{c.key_id}\t{state}\t{c.created_at:%Y-%m-%d %H:%M}")

    def _revoke(self, opts):
        client = Open311Client.objects.filter(name=opts["name"]).first()
        if client is None:
            raise CommandError(f"客户端不存在 / no such client: {opts['name']}")
        client_revoke(client=client)
        self.stdout.write(f"已吊销 / revoked {client.name}")
