"""`cityops db roles`: the least-privilege database role the application runs as (core.dbroles)."""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from cityops.core.dbroles import app_role_sql, role_power


class Command(BaseCommand):
    help = "数据库角色 / database roles: `cityops db roles` creates the application's least-privilege role"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="sub", required=True)
        roles = sub.add_parser("roles", help="create or update the application role (run as the tables' owner, "
                                             "again after every migrate)")
        roles.add_argument("--role", default="cityops_app", help="the role's name (default cityops_app)")
        roles.add_argument("--password-env", metavar="VAR", default=None,
                           help="set the role's password from this environment variable")
        roles.add_argument("--print", action="store_true", dest="print_only",
                           help="only print the SQL (for a DBA to review and run)")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("数据库角色仅适用于 PostgreSQL / database roles are for PostgreSQL only")
        role = options["role"]
        password = None
        if options["password_env"]:
            password = os.environ.get(options["password_env"])
            if not password:
                raise CommandError(f"环境变量 {options['password_env']} 为空 / {options['password_env']} is empty")
        power = role_power(role)
        if power:
            raise CommandError(f"角色 {role} 权限过大（{power}），不能作为应用角色 / role {role} is not fit to be the "
                               f"application role: it is {power}; choose another name or take that away first")
        statements = app_role_sql(role, password=password)
        if options["print_only"]:
            for statement in statements:
                self.stdout.write(statement.replace("PASSWORD %s", "PASSWORD '…'") + ";")
            return
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement, [password] if "PASSWORD %s" in statement else None)
        self.stdout.write(f"应用角色 {role} 已就绪 / application role {role} is ready: connect the web servers and "
                          f"workers as it (DATABASE_URL=postgres://{role}@…); run migrations as the owner")
