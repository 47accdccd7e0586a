"""The edge of every request: what is refused before any view runs, and how any error is answered in the shape
its caller expects — coded JSON under /api/, the protocol's own error document where an app registers one
(Open311), and a page of ours in the user's language everywhere else. No input may turn into a server error.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import get_language

from cityops.core.errors import CityopsError

log = logging.getLogger(__name__)

API_PREFIX = "/api/"

# Apps whose protocol has an error document of its own register a renderer for their URL prefix
# (open311's AppConfig.ready): renderer(request, error) -> HttpResponse.
ERROR_RENDERERS: dict[str, Callable[[HttpRequest, CityopsError], HttpResponse]] = {}

# What each status means when nothing more specific is known (a route that does not exist, a method the route
# does not take, a server error): code, Chinese, English.
STATUS_ERRORS = {
    400: ("bad_request", "请求有误", "Bad request"),
    401: ("not_authenticated", "需要登录或有效的令牌", "Authentication required"),
    403: ("forbidden", "无权访问", "You are not allowed to do this"),
    404: ("not_found", "未找到该地址", "No such address"),
    405: ("method_not_allowed", "该地址不支持此请求方法", "This address does not take this request method"),
    406: ("not_acceptable", "无法提供所要求的格式", "The requested format cannot be produced"),
    409: ("conflict", "与当前状态冲突", "Conflicts with the current state"),
    410: ("gone", "该资源已不存在", "This resource is gone"),
    412: ("precondition_failed", "前提条件不满足", "A precondition failed"),
    413: ("request_too_large", "请求内容过大", "The request is too large"),
    415: ("unsupported_media_type", "不支持的请求内容类型", "Unsupported request content type"),
    422: ("unprocessable", "请求无法处理", "The request cannot be processed"),
    429: ("rate_limited", "请求过于频繁，请稍后再试", "Too many requests: try again later"),
    500: ("server_error", "服务器内部错误，已记录，请稍后再试", "Internal server error: it was logged, try again later"),
}


def status_error(status: int, *, code: str | None = None) -> CityopsError:
    known = STATUS_ERRORS.get(status) or STATUS_ERRORS[500 if status >= 500 else 400]
    return CityopsError(known[1], known[2], code=code or known[0], status=status)


def invalid_characters() -> CityopsError:
    return CityopsError(
        "请求中含有不允许的控制字符（如 NUL）",
        "The request contains a character that is not allowed (e.g. NUL)",
        code="invalid_characters",
        status=400,
    )


def too_large() -> CityopsError:
    limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
    return CityopsError(
        f"请求内容过大（上限 {limit_mb:g} MB）",
        f"The request is too large (limit {limit_mb:g} MB)",
        code="request_too_large",
        status=413,
    )


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def error_response(request: HttpRequest, error: CityopsError) -> HttpResponse:
    """The answer to `error` for whoever asked: JSON under /api/, a registered protocol's document, or a page."""
    path = request.path_info
    if path.startswith(API_PREFIX):
        return JsonResponse(error.as_dict(), status=error.status, json_dumps_params={"ensure_ascii": False})
    for prefix, renderer in ERROR_RENDERERS.items():
        if path.startswith(prefix):
            return renderer(request, error)
    return error_page(request, error)


def coded_json(code: str, msgid: str, *, status: int = 400, extra: dict | None = None, **params) -> JsonResponse:
    """A page's JSON endpoint (an address search for a map, say) refuses as the API does: `code`, `message`
    (中文) and `message_en`, both from one gettext message (its Chinese msgid, mark it with gettext_noop) —
    the page's script shows the one of its language. `extra` keys go first (e.g. `found: false`)."""
    texts = {}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            texts[language] = translation.gettext(msgid) % params if params else translation.gettext(msgid)
    error = CityopsError(texts["zh-hans"], texts["en"], code=code, status=status)
    return JsonResponse({**(extra or {}), **error.as_dict()}, status=status, json_dumps_params={"ensure_ascii": False})


def error_page(request: HttpRequest, error: CityopsError) -> HttpResponse:
    english = (get_language() or "").startswith("en")
    context = {
        "status": error.status,
        "code": error.code,
        "message": error.message_en if english else error.message,
        "message_other": error.message if english else error.message_en,
    }
    try:
        body = render_to_string("core/error.html", context, request=request)
    except Exception:  # the page itself failed (e.g. the database is down): still answer, plainly
        log.exception("error page could not be rendered")
        body = (
            f'<!doctype html><meta charset="utf-8"><title>{error.status} · cityops</title>'
            f"<h1>{error.status}</h1><p>{escape(error.message)}</p><p>{escape(error.message_en)}</p>"
            f"<p>cityops · <code>{escape(error.code)}</code></p>"
        )
    return HttpResponse(body, status=error.status, content_type="text/html; charset=utf-8")


# A NUL reaches a view as %00 in the URL or a form body, as \u0000 in JSON (an odd number of backslashes
# before u0000: "\\u0000" is a backslash followed by text) or as the byte itself.
_PERCENT_NUL = re.compile(rb"%00")
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
_BODY_TYPES_CHECKED = ("application/json", "application/x-www-form-urlencoded", "text/")


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path_info or _PERCENT_NUL.search(request.META.get("QUERY_STRING", "").encode()):
        return True
    if "\x00" in request.META.get("QUERY_STRING", ""):
        return True
    content_type = request.content_type or ""
    if content_type == "multipart/form-data":
        # Read the body first (it is within the size limit): the fields are then parsed from it, and a view
        # that reads the body (an API operation refusing a form) still can.
        request.body  # noqa: B018
        return any("\x00" in key or any("\x00" in v for v in values) for key, values in request.POST.lists())
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and (
        content_type.startswith(_BODY_TYPES_CHECKED) or content_type.endswith("+json")
    ):
        body = request.body
        return b"\x00" in body or bool(_PERCENT_NUL.search(body)) or bool(_JSON_NUL.search(body))
    return False


def _declared_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


class EdgeMiddleware:
    """Refuses, before any view runs, what no view should see: NUL characters, bodies over the size limit,
    multipart bodies that cannot be parsed. And gives every error answer under /api/ and registered protocol
    prefixes its coded shape (a 405 of the API framework, for instance, comes with an empty HTML body), and a
    page's empty error answer our error page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = self.refusal(request)
        if refusal is not None:
            return error_response(request, refusal)
        response = self.get_response(request)
        if response.status_code >= 400 and self._needs_shape(request, response):
            shaped = error_response(request, status_error(response.status_code))
            if response.has_header("Allow"):
                shaped["Allow"] = response["Allow"]
            return shaped
        return response

    @staticmethod
    def refusal(request: HttpRequest) -> CityopsError | None:
        length = _declared_length(request)
        if length is None:
            return CityopsError("Content-Length 无效", "Invalid Content-Length", code="invalid_content_length")
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return too_large()
        try:
            if _has_nul(request):
                return invalid_characters()
        except RequestDataTooBig:
            return too_large()
        except (TooManyFieldsSent, TooManyFilesSent):
            return CityopsError("表单字段或文件过多", "Too many form fields or files", code="too_many_fields")
        except MultiPartParserError as exc:
            return CityopsError(
                f"无法解析 multipart 请求体：{exc}", f"The multipart body cannot be parsed: {exc}", code="invalid_multipart"
            )
        except SuspiciousOperation as exc:
            return CityopsError("请求有误", f"Bad request: {exc}", code="bad_request")
        except UnicodeDecodeError:
            return CityopsError("请求不是有效的 UTF-8 文本", "The request is not valid UTF-8 text", code="invalid_encoding")
        return None

    @staticmethod
    def _needs_shape(request: HttpRequest, response: HttpResponse) -> bool:
        path = request.path_info
        if not (path.startswith(API_PREFIX) or any(path.startswith(p) for p in ERROR_RENDERERS)):
            # A page's error that says nothing (Django's 405 for a method the view does not take is empty) gets ours.
            return not response.streaming and not response.content
        content_type = response.get("Content-Type", "")
        if path.startswith(API_PREFIX):
            if not content_type.startswith("application/json"):
                return True
            try:
                return "code" not in json.loads(response.content)
            except (ValueError, AttributeError):
                return True
        return not (content_type.startswith(("application/json", "text/xml", "application/xml")))
