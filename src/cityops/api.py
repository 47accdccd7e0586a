"""The JSON API under /api/v1/: one NinjaAPI, every app's router mounted here.

Every answer that is not a success is the coded error `{"code", "message", "message_en"}` — whatever went wrong:
bad JSON, a body that is not JSON (415), a number out of range, an unknown route, a method the route does not
take (core/edge.py shapes those) — and the OpenAPI document says so for every operation."""

import importlib
import importlib.util
import json

from django.apps import apps as django_apps
from django.core.exceptions import PermissionDenied
from django.db import DataError
from django.http import Http404
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from cityops.accounts.auth import api_auth
from cityops.core import edge
from cityops.core.errors import CityopsError, Forbidden, InvalidInput, NotAuthenticated, NotFound

JSON_TYPES = ("application/json",)


class UnsupportedMediaType(CityopsError):
    status = 415
    code = "unsupported_media_type"


def _refuse_constant(name: str):
    raise InvalidInput(
        f"JSON 中不允许 {name}：数值必须是有限数", f"{name} is not allowed in JSON: numbers must be finite",
        code="invalid_number",
    )


class JsonBodyParser(Parser):
    """A body is JSON only when it says so (Content-Type: application/json or …+json), and JSON here is the
    standard's: no NaN or Infinity."""

    def parse_body(self, request):
        content_type = request.content_type or ""
        if not (content_type in JSON_TYPES or content_type.endswith("+json")):
            raise UnsupportedMediaType(
                f"请求体须为 JSON（Content-Type: application/json），收到「{content_type or '无'}」",
                f"The body must be JSON (Content-Type: application/json), got '{content_type or 'none'}'",
            )
        try:
            data = json.loads(request.body, parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            if isinstance(exc, CityopsError):
                raise
            raise InvalidInput(f"请求体不是有效的 JSON：{exc}", f"The body is not valid JSON: {exc}", code="invalid_json") from exc
        if not isinstance(data, dict):
            raise InvalidInput("请求体须为 JSON 对象 {…}", "The body must be a JSON object {…}", code="invalid_json")
        return data


ERROR_SCHEMA = {
    "type": "object",
    "title": "Error",
    "required": ["code", "message", "message_en"],
    "properties": {
        "code": {"type": "string", "description": "machine-readable error code"},
        "message": {"type": "string", "description": "中文说明"},
        "message_en": {"type": "string", "description": "English explanation"},
        "details": {},
    },
}
# The errors any operation may answer: every status the edge and the handlers below can give.
ERROR_STATUSES = {
    "400": "请求有误 / bad input",
    "401": "需要认证 / authentication required",
    "403": "无权执行 / not allowed",
    "404": "未找到 / not found",
    "405": "方法不支持 / method not allowed",
    "409": "状态冲突 / conflict or illegal transition",
    "412": "版本已变 / stale version (If-Match)",
    "413": "请求过大 / request too large",
    "415": "不支持的内容类型 / unsupported media type",
    "422": "无法处理 / unprocessable",
    "429": "过于频繁 / rate limited",
    "500": "服务器错误 / server error",
}


class CityopsAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        error_ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for methods in schema.get("paths", {}).values():
            for operation in methods.values():
                responses = operation.setdefault("responses", {})
                # ninja keys a route's own statuses by int: made strings, so a status the route declares and the
                # shared error statuses are one key in the JSON, not two (a duplicate key that Swagger UI's parser
                # refuses: "Unable to render this definition").
                for status in [key for key in responses if not isinstance(key, str)]:
                    responses[str(status)] = responses.pop(status)
                for status, description in ERROR_STATUSES.items():
                    responses.setdefault(status, {"description": description, **error_ref})
        return schema


api = CityopsAPI(
    title="cityops API",
    version="1",
    description="城市一网统管开放接口 / cityops open API. Authenticate with `Authorization: Bearer <token>` "
    "(`cityops token create --user NAME`) or a browser session. Errors are "
    '`{"code": "...", "message": "...", "message_en": "..."}`.',
    auth=api_auth,
    urls_namespace="api",
    docs_url="/docs",
    # Swagger UI from cityops's own static files ("ninja" is an installed app); no online validator badge.
    docs=Swagger(settings={"validatorUrl": None}),
    openapi_url="/openapi.json",
    parser=JsonBodyParser(),
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
    if isinstance(exc.__cause__, CityopsError):  # the body parser's refusal, wrapped by the framework
        return _answer(request, exc.__cause__)
    if exc.status_code == 403 and "CSRF" in str(exc):
        return _answer(request, Forbidden(
            "安全校验（CSRF）失败：请刷新页面后重试", "Security check (CSRF) failed: reload the page and try again",
            code="csrf_failed",
        ))
    error = edge.status_error(exc.status_code)
    if exc.status_code == 400:
        error.code, error.message_en = "invalid_input", f"{error.message_en}: {exc}"
    return _answer(request, error)


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
def on_out_of_range(request, exc):
    # A value the schema let through but the database or the calendar cannot hold (e.g. a huge id).
    return _answer(request, InvalidInput("数值或日期超出允许范围", "A number or date is out of range", code="out_of_range"))


@api.get("/health", auth=None, tags=["system"], summary="健康检查 / health")
def health(request):
    return {"status": "ok"}


# Each domain app exposes `router` in its api.py; mounted in this order under /api/v1/<prefix>/.
ROUTERS = [
    ("accounts", "cityops.accounts.api"),
    ("geo", "cityops.geo.api"),
    ("core", "cityops.core.api"),
    ("", "cityops.cases.api"),
    ("supervision", "cityops.cases.supervision.api"),
    ("dispatch", "cityops.hotline.api"),
    ("iot", "cityops.iot.api"),
]
# A domain app not listed above contributes its router through its AppConfig: `api_prefix = "permits"`.
ROUTERS += [(config.api_prefix, f"{config.name}.api") for config in django_apps.get_app_configs()
            if getattr(config, "api_prefix", None) and f"{config.name}.api" not in dict(ROUTERS).values()]
for prefix, module_name in ROUTERS:
    if importlib.util.find_spec(module_name) is None:
        continue
    module = importlib.import_module(module_name)
    api.add_router(f"/{prefix}" if prefix else "/", module.router)
