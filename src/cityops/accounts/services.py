from datetime import datetime

from django.db import transaction
from django.utils import timezone

from cityops.accounts.models import ApiToken, User
from cityops.core.errors import NotFound
from cityops.core.timeline import timeline_append


@transaction.atomic
def api_token_create(*, user: User, name: str = "", expires_at: datetime | None = None, actor: User | None = None) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret; the secret is never stored, only its SHA-256."""
    secret, key_id, key_hash = ApiToken.new_secret()
    token = ApiToken.objects.create(user=user, name=name, key_id=key_id, key_hash=key_hash, expires_at=expires_at)
    timeline_append(
        subject=user, action="token_create", actor=actor, params={"key_id": key_id, "name": name}
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, key_id: str, actor: User | None = None) -> ApiToken:
    token = ApiToken.objects.select_for_update().filter(key_id=key_id).first()
    if token is None:
        raise NotFound("令牌不存在", f"No token with id {key_id}", code="unknown_token")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        timeline_append(subject=token.user, action="token_revoke", actor=actor, params={"key_id": key_id})
    return token
