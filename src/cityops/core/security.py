"""Start-up refusals for production (issue: foundation, "Security from the first day")."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured
from django.db.utils import DatabaseError

from cityops.core.dbroles import database_role_problems
from cityops.core.demo import demo_usernames


def demo_password_users() -> list[str]:
    """Usernames of demo accounts (core.demo.demo_usernames) that still accept the well-known demo password."""
    found = []
    try:
        for user in get_user_model().objects.filter(username__in=demo_usernames(), is_active=True):
            if user.check_password("cityops-demo") or user.check_password(settings.DEMO_PASSWORD):
                found.append(user.username)
    except DatabaseError:
        return []  # not migrated yet: nothing to refuse
    return found


def demo_password_problems() -> list[str]:
    users = demo_password_users()
    if users:
        return [
            f"生产模式下这些账号仍使用演示密码：{', '.join(users)} / "
            f"these accounts still use the demo password in production: {', '.join(users)}"
        ]
    return []


def startup_problems() -> list[str]:
    if not settings.PRODUCTION:
        return []
    # The database role is checked at start-up only, not as a system check: `cityops migrate` runs as the
    # tables' owner on purpose.
    return demo_password_problems() + database_role_problems()


def ensure_safe_to_start(error: type[Exception] = ImproperlyConfigured) -> None:
    """Refuse to start a production process while startup_problems() reports anything: the one gate that
    `cityops serve`, `cityops worker`, `cityops iot ingest` and the WSGI application (so a plain
    `gunicorn cityops.wsgi`) pass before serving. `error` is what the caller raises (CommandError in commands)."""
    problems = startup_problems()
    if problems:
        raise error("拒绝启动 / refusing to start:\n" + "\n".join(problems))


@register(Tags.security, Tags.database)
def check_demo_passwords(app_configs, databases=None, **kwargs):
    if not databases or not settings.PRODUCTION:
        return []
    return [Error(p, id="cityops.E001") for p in demo_password_problems()]
