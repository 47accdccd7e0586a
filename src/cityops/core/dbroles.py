"""The application's database role: least privilege, so that the timeline's triggers hold against it
(issue 10 §5; docs/security.md "Database roles").

Migrations run as the owner of the tables; the web servers and workers run as a role that owns nothing: it
reads and writes the application's tables, may only add to the timeline (INSERT entries; UPDATE heads, which a
trigger lets move only forward) and may not TRUNCATE, ALTER or drop anything — so it cannot switch a trigger
off. PostgreSQL only (SQLite has no roles).
"""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection

APPEND_ONLY = {
    "core_timelineentry": "SELECT, INSERT",
    "core_timelinehead": "SELECT, INSERT, UPDATE",  # UPDATE: forward only (trigger, core migration 0004)
    "django_migrations": "SELECT",  # the app checks it; only the owner migrates
}
DML = "SELECT, INSERT, UPDATE, DELETE"


def _ident(name: str) -> str:
    return connection.ops.quote_name(name)


def app_role_sql(role: str, *, password: str | None = None) -> list[str]:
    """The statements that create (or bring up to date) `role` for the current database and its tables.
    Idempotent: run it again after every `cityops migrate` (new tables are granted at once by the default
    privileges, but only a new run takes back what a table should no longer allow)."""
    quoted = _ident(role)
    literal = role.replace("'", "''")
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor))
        cursor.execute("SELECT current_database(), current_schema(), current_user")
        database, schema, owner = cursor.fetchone()
    statements = [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{literal}') THEN "
        f"CREATE ROLE {quoted} LOGIN; END IF; END $$",
        f"ALTER ROLE {quoted} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
        + (" PASSWORD %s" if password else ""),
        f"GRANT CONNECT, TEMPORARY ON DATABASE {_ident(database)} TO {quoted}",
        f"GRANT USAGE ON SCHEMA {_ident(schema)} TO {quoted}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {_ident(schema)} FROM {quoted}",
    ]
    statements += [f"GRANT {APPEND_ONLY.get(t, DML)} ON {_ident(t)} TO {quoted}" for t in tables]
    statements += [
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {_ident(schema)} TO {quoted}",
        # Tables a later migration adds are the application's own (the timeline's exist already).
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {_ident(owner)} IN SCHEMA {_ident(schema)} GRANT {DML} ON TABLES TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {_ident(owner)} IN SCHEMA {_ident(schema)} "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {quoted}",
    ]
    return statements


def role_power(role: str | None = None) -> str:
    """Why `role` (default: the connected one) could switch the timeline's triggers off — a superuser, or owner of
    a table of the schema, itself or through a role it is a member of; "" when it cannot (or does not exist)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.rolsuper, (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND pg_has_role(r.oid, c.relowner, 'MEMBER')) "
            "FROM pg_roles r WHERE r.rolname = COALESCE(%s, current_user)",
            [role],
        )
        row = cursor.fetchone()
    if row is None:
        return ""
    if row[0]:
        return "superuser"
    return f"owner of {row[1]} table(s) of the schema" if row[1] else ""


def database_role_problems() -> list[str]:
    """Production start-up: refuse to run as a superuser or as the owner of the tables (either can disable the
    timeline's triggers), unless CITYOPS_ALLOW_OWNER_ROLE says the city chose to."""
    if connection.vendor != "postgresql" or getattr(settings, "CITYOPS_ALLOW_OWNER_ROLE", False):
        return []
    try:
        power = role_power()
    except DatabaseError:
        return []
    if not power:
        return []
    return [
        f"生产模式不以数据库超级用户或数据表所有者身份运行（它能关闭时间线的触发器）；请用 `cityops db roles` 创建应用角色，"
        f"或设置 CITYOPS_ALLOW_OWNER_ROLE=1 / production refuses to run as a database {power} (it can switch the "
        "timeline's triggers off): create the application role with `cityops db roles` and connect as it, or set "
        "CITYOPS_ALLOW_OWNER_ROLE=1"
    ]
