"""The JSON API under /api/v1/: one NinjaAPI, every app's router mounted here."""

import importlib
import importlib.util

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from cityops.accounts.auth import api_auth
from cityops.core.errors import CityopsError, Forbidden, InvalidInput, NotAuthenticated, NotFound

api = NinjaAPI(
    title="cityops API",
    version="1",
    description="城市一网统管开放接口 / cityops open API. Authenticate with `Authorization: Bearer <token>` "
    "(`cityops token create --user NAME`) or a browser session. Errors are "
    '`{"code": "...", "message": "...", "message_en": "..."}`.',
    auth=api_auth,
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _answer(request, error: CityopsError):
    return api.create_response(request, error.as_dict(), status=error.status)


@api.exception_handler(CityopsError)
def on_cityops_error(request, exc: CityopsError):
    return _answer(request, exc)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    fields = []
    for err in exc.errors:
        fields.append({"loc": [str(p) for p in err.get("loc", [])], "msg": err.get("msg", ""), "type": err.get("type", "")})
    return _answer(
        request,
        InvalidInput("请求参数有误，请检查字段格式", "The request has invalid or missing fields", details=fields),
    )


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return _answer(request, NotAuthenticated("需要登录或有效的令牌", "Authentication required: log in or send a valid bearer token"))


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc):
    return _answer(request, Forbidden("无权执行此操作", "You are not allowed to do this"))


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _answer(request, NotFound("未找到", "Not found"))


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    err = CityopsError(str(exc), str(exc), status=exc.status_code, code="http_error")
    if exc.status_code == 400:
        err.code = "invalid_input"
    return _answer(request, err)


@api.get("/health", auth=None, tags=["system"], summary="健康检查 / health")
def health(request):
    return {"status": "ok"}


# Each domain app exposes `router` in its api.py; mounted in this order under /api/v1/<prefix>/.
ROUTERS = [
    ("accounts", "cityops.accounts.api"),
    ("geo", "cityops.geo.api"),
    ("core", "cityops.core.api"),
    ("", "cityops.cases.api"),
    ("dispatch", "cityops.hotline.api"),
    ("iot", "cityops.iot.api"),
]
for prefix, module_name in ROUTERS:
    if importlib.util.find_spec(module_name) is None:
        continue
    module = importlib.import_module(module_name)
    api.add_router(f"/{prefix}" if prefix else "/", module.router)
