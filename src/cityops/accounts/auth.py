"""API authentication: hashed bearer tokens for integrations, the session for the web UI."""

from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from cityops.accounts.models import ApiToken


def token_with_user(key_id: str) -> ApiToken | None:
    """The token with this key id and its user (one query; the user's groups are read when `role_codes` is
    first asked — a prefetch would cost the same query and more Python)."""
    try:
        return ApiToken.objects.select_related("user").get(key_id=key_id)
    except ApiToken.DoesNotExist:
        return None


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
