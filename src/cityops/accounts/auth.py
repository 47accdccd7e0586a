"""API authentication: hashed bearer tokens for integrations, the session for the web UI."""

from django.contrib.auth.models import Group
from django.db import connections
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from cityops.accounts.models import ApiToken, User
from cityops.core import prepared

_TOKEN_SQL: dict[str, tuple] = {}


def _token_query(connection) -> tuple:
    """(sql, token fields, user fields, group fields, converters) of the one statement that reads a token, its
    user and the user's groups (one row per group, LEFT JOIN so a user without groups still has one row).
    Built once per process and database from the models' metadata; converters are the ones the ORM applies."""
    cached = _TOKEN_SQL.get(connection.alias)
    if cached is not None:
        return cached
    qn = connection.ops.quote_name
    m2m = User._meta.get_field("groups")
    through = m2m.remote_field.through._meta
    parts = [("t", ApiToken._meta.concrete_fields), ("u", User._meta.concrete_fields), ("g", Group._meta.concrete_fields)]
    columns, converters = [], []
    for alias, fields in parts:
        cols, convs = prepared.select_columns(fields, alias, connection, start=len(columns))
        columns += cols
        converters += convs
    sql = (
        f"SELECT {', '.join(columns)} FROM {qn(ApiToken._meta.db_table)} t "  # noqa: S608 - identifiers from model metadata
        f"INNER JOIN {qn(User._meta.db_table)} u ON u.{qn(User._meta.pk.column)} = t.{qn(ApiToken._meta.get_field('user').column)} "
        f"LEFT JOIN {qn(through.db_table)} ug ON ug.{qn(m2m.m2m_column_name())} = u.{qn(User._meta.pk.column)} "
        f"LEFT JOIN {qn(Group._meta.db_table)} g ON g.{qn(Group._meta.pk.column)} = ug.{qn(m2m.m2m_reverse_name())} "
        f"WHERE t.{qn(ApiToken._meta.get_field('key_id').column)} = %s"
    )
    cached = (sql, len(ApiToken._meta.concrete_fields), len(User._meta.concrete_fields), converters)
    _TOKEN_SQL[connection.alias] = cached
    return cached


def token_with_user(key_id: str, using: str = "default") -> ApiToken | None:
    """The token with this key id, its user loaded and the user's groups prefetched (role_codes needs no
    query) — in one statement instead of a select_related query plus a prefetch query."""
    connection = connections[using]
    sql, n_token, n_user, converters = _token_query(connection)
    rows = prepared.execute(sql, [key_id], using=using)
    if not rows:
        return None
    rows = [prepared.convert_row(row, converters, connection) for row in rows]
    first = rows[0]
    token = ApiToken.from_db(using, None, first[:n_token])
    user = User.from_db(using, None, first[n_token : n_token + n_user])
    token._state.fields_cache["user"] = user
    groups = [Group.from_db(using, None, row[n_token + n_user :]) for row in rows if row[n_token + n_user] is not None]
    prefetched = Group.objects.all()
    prefetched._result_cache = groups
    prefetched._prefetch_done = True
    user._prefetched_objects_cache = {"groups": prefetched}  # what prefetch_related("user__groups") stores
    user.role_codes = User.roles_of([g.name for g in groups], is_superuser=user.is_superuser)  # the cached_property's value
    return token


class BearerToken(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request, token: str):
        key_id = ApiToken.split(token)
        if key_id is None:
            return None
        api_token = token_with_user(key_id)
        if api_token is None or not api_token.is_active or not api_token.matches(token):
            return None
        if not api_token.user.is_active:
            return None
        now = timezone.now()
        # Write last use at most once a minute: a hot integration must not turn every read into a write.
        if api_token.last_used_at is None or (now - api_token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        request.user = api_token.user
        return api_token.user


class Session(SessionAuth):
    """Session auth with CSRF on unsafe methods (django-ninja's default behaviour)."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


api_auth = [BearerToken(), Session()]
