from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cityops.accounts.models import ApiToken, User
from cityops.accounts.services import api_token_create, api_token_revoke
from cityops.core.errors import CityopsError


class Command(BaseCommand):
    help = "API 令牌管理 / API tokens: create, list, revoke"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="sub", required=True)
        create = sub.add_parser("create", help="create a bearer token and print it once")
        create.add_argument("--user", required=True)
        create.add_argument("--name", default="")
        create.add_argument("--days", type=int, default=None, help="expire after this many days")
        listing = sub.add_parser("list")
        listing.add_argument("--user", default=None)
        revoke = sub.add_parser("revoke")
        revoke.add_argument("key_id")

    def handle(self, *args, **opts):
        try:
            getattr(self, f"_{opts['sub']}")(opts)
        except CityopsError as exc:
            raise CommandError(str(exc)) from exc

    def _create(self, opts):
        user = User.objects.filter(username=opts["user"]).first()
        if user is None:
            raise CommandError(f"用户不存在 / no such user: {opts['user']}")
        expires = timezone.now() + timedelta(days=opts["days"]) if opts["days"] else None
        _token, secret = api_token_create(user=user, name=opts["name"], expires_at=expires)
        self.stdout.write(secret)

    def _list(self, opts):
        tokens = ApiToken.objects.select_related("user").order_by("created_at")
        if opts["user"]:
            tokens = tokens.filter(user__username=opts["user"])
        for t in tokens:
            state = "revoked" if t.revoked_at else ("active" if t.is_active else "expired")
            self.stdout.write(f"{t.key_id}\t{t.user.username}\t{t.name}\t{state}\t{t.created_at:%Y-%m-%d %H:%M}")

    def _revoke(self, opts):
        api_token_revoke(key_id=opts["key_id"])
        self.stdout.write(f"已吊销 / revoked {opts['key_id']}")
