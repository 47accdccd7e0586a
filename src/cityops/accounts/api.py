from ninja import Router, Status

from cityops.core import roles
from cityops.core.schemas import Schema

router = Router(tags=["accounts"])


class OrgUnitOut(Schema):
    code: str
    name: str
    kind: str


class MeOut(Schema):
    username: str
    name: str
    roles: list[str]
    org_units: list[OrgUnitOut]
    region_codes: list[str]


@router.get("/me", response=MeOut, summary="当前用户 / the current user")
def me(request):
    user = request.auth
    return {
        "username": user.username,
        "name": user.first_name,
        "roles": [r for r in roles.ALL_ROLES if r in user.role_codes],
        "org_units": list(user.org_units.all()),
        "region_codes": user.region_codes or [],
    }


class TokenIn(Schema):
    name: str = ""


class TokenOut(Schema):
    key_id: str
    name: str
    token: str | None = None


@router.post("/tokens", response={201: TokenOut}, summary="为自己创建 API 令牌 / create an API token for yourself")
def token_create(request, payload: TokenIn):
    from cityops.accounts.services import api_token_create

    token, secret = api_token_create(user=request.auth, name=payload.name[:100], actor=request.auth)
    return Status(201, {"key_id": token.key_id, "name": token.name, "token": secret})


@router.delete("/tokens/{key_id}", response={204: None}, summary="吊销自己的 API 令牌 / revoke one of your tokens")
def token_revoke(request, key_id: str):
    from cityops.accounts.models import ApiToken
    from cityops.accounts.services import api_token_revoke
    from cityops.core.errors import NotFound

    if not ApiToken.objects.filter(user=request.auth, key_id=key_id).exists():
        raise NotFound("令牌不存在", f"No token {key_id} of yours", code="unknown_token")
    api_token_revoke(key_id=key_id, actor=request.auth)
    return Status(204, None)
