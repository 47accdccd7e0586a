"""GeoReport v2 answers in XML (required) and JSON (the Spark convention: the XML's list elements become
JSON arrays, the root wrapper of a list disappears). UTF-8 everywhere, XML declaration first.

A value of None is an empty element in XML (`<account_id/>`) and null in JSON; booleans are `true`/`false`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from xml.sax.saxutils import escape

from django.http import HttpResponse
from django.utils import timezone

FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}

# Characters XML 1.0 forbids (control characters other than tab, LF, CR): a description pasted from a
# phone can carry them, and one of them would make the whole document unparsable for every client.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def w3c(value: datetime | None) -> str | None:
    """ISO 8601 / W3C-DTF with the offset (the spec requires the time zone), in the city's zone."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return w3c(value) or ""
    return _XML_ILLEGAL.sub("", str(value))


# Any character that _text would drop or escape would send a string down the slow path.
_XML_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_node(tag: str, value, item_tags: dict[str, str]) -> str:
    kind = type(value)
    if kind is str:  # the common case, checked first: most strings need neither cleaning nor escaping
        if not value:
            return f"<{tag}/>"
        if _XML_SPECIAL.search(value) is None:
            return f"<{tag}>{value}</{tag}>"
    elif value is None:
        return f"<{tag}/>"
    elif kind is dict:
        inner = "".join([_xml_node(k, v, item_tags) for k, v in value.items()])
        return f"<{tag}>{inner}</{tag}>"
    if isinstance(value, dict):
        inner = "".join([_xml_node(k, v, item_tags) for k, v in value.items()])
        return f"<{tag}>{inner}</{tag}>"
    if isinstance(value, list | tuple):
        child = item_tags.get(tag, "item")
        inner = "".join([_xml_node(child, v, item_tags) for v in value])
        return f"<{tag}>{inner}</{tag}>"
    text = _text(value)
    if text == "":
        return f"<{tag}/>"
    return f"<{tag}>{escape(text)}</{tag}>"


# The element name of one item of each list, as the spec names them.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
    "service_request_updates": "request_update",
}


def to_xml(root: str, value) -> str:
    return '<?xml version="1.0" encoding="utf-8"?>\n' + _xml_node(root, value, ITEM_TAGS)


def _json_default(value):
    if isinstance(value, datetime):
        return w3c(value)
    raise TypeError(type(value))


def to_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def answer(fmt: str, root: str, value, *, status: int = 200) -> HttpResponse:
    """`root` is the XML root element; JSON has no root: a list answer is the bare array and an object
    answer (service_definition, discovery) the bare object (Spark convention, as in the spec's examples)."""
    body = to_json(value) if fmt == "json" else to_xml(root, value)
    return HttpResponse(body.encode("utf-8"), status=status, content_type=FORMATS.get(fmt, FORMATS["xml"]))


def error_answer(fmt: str, status: int, errors: list[tuple[int | str, str]]) -> HttpResponse:
    """`<errors><error><code>…</code><description>…</description></error></errors>`; JSON is the array."""
    items = [{"code": code, "description": description} for code, description in errors]
    return answer(fmt if fmt in FORMATS else "xml", "errors", items, status=status)
