"""Every write of the Open311 facade. A posted request becomes an ordinary case through
cases.services.case_create (source "open311"); its state is then moved only by the case workflow."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone

from cityops.cases.models import Case
from cityops.cases.services import case_create
from cityops.core.errors import Forbidden, InvalidInput, NotFound, RateLimited
from cityops.core.ratelimit import window_hit
from cityops.core.timeline import timeline_append
from cityops.open311 import conf
from cityops.open311 import params as p
from cityops.open311.models import Open311Client, Open311Request, ServiceAttribute
from cityops.open311.selectors import category_for_service, service_attributes

MAX_DESCRIPTION = 4000  # GeoReport v2: "free form text limited to 4,000 characters"


# --- clients and keys -----------------------------------------------------------------------------------
@transaction.atomic
def client_create(*, name: str, contact: str = "", actor=None) -> tuple[Open311Client, str]:
    """A new client and its api_key; the key is returned once and only its hash is stored."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("请填写客户端名称", "A client name is required", code="name_required")
    if Open311Client.objects.filter(name=name).exists():
        raise InvalidInput(f"客户端「{name}」已存在", f"A client named '{name}' exists", code="client_exists")
    key, key_id, digest = Open311Client.new_key()
    client = Open311Client.objects.create(name=name, contact=contact, key_id=key_id, key_hash=digest)
    timeline_append(subject=client, action="key_create", actor=actor, params={"key_id": key_id, "name": name})
    return client, key


@transaction.atomic
def client_revoke(*, client: Open311Client, actor=None) -> Open311Client:
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
        timeline_append(subject=client, action="key_revoke", actor=actor, params={"key_id": client.key_id})
    return client


def client_for_key(key: str) -> Open311Client:
    """403 for a missing, malformed, unknown or revoked key (spec: 'Missing or Invalid API Key')."""
    key = (key or "").strip()
    if not key:
        raise Forbidden("缺少 api_key", "api_key is missing", code="api_key_missing")
    key_id = Open311Client.key_id_of(key)
    client = Open311Client.objects.filter(key_id=key_id).first() if key_id else None
    if client is None or not client.matches(key) or not client.is_active:
        raise Forbidden("api_key 无效或已吊销", "Invalid or revoked api_key", code="api_key_invalid")
    now = timezone.now()
    if client.last_used_at is None or (now - client.last_used_at).total_seconds() > 60:
        Open311Client.objects.filter(pk=client.pk).update(last_used_at=now)
    return client


def rate_check(*, client: Open311Client) -> None:
    """A fixed one-minute window per client in the cache (shared by every worker when the cache is)."""
    limit = client.rate_limit_per_minute or int(conf.get("RATE_LIMIT_PER_MINUTE"))
    if not limit:
        return
    used, retry_after = window_hit(key=f"open311:{client.pk}", window_s=60)
    if used > limit:
        raise RateLimited(
            f"提交过于频繁：每分钟最多 {limit} 条",
            f"Too many requests: at most {limit} per minute for this api_key",
            details={"retry_after": retry_after},
        )


# --- POST requests ---------------------------------------------------------------------------------------
def _attribute_answers(data) -> dict[str, list[str]]:
    """attribute[code]=v, attribute[code][]=v1&attribute[code][]=v2 (multivaluelist), and the same code
    repeated without brackets: all become {code: [values]}."""
    answers: dict[str, list[str]] = {}
    keys = data.keys() if hasattr(data, "keys") else []
    for key in keys:
        if not key.startswith("attribute[") or "]" not in key:
            continue
        code = key[len("attribute[") : key.index("]")].strip()
        if not code:
            continue
        getlist = getattr(data, "getlist", None)
        raw = getlist(key) if getlist else data.get(key)
        items = raw if isinstance(raw, list) else [raw]
        answers.setdefault(code, []).extend(str(v).strip() for v in items if v is not None and str(v).strip() != "")
    return answers


def _check_attributes(category_code: str, answers: dict[str, list[str]]) -> dict:
    """Validate answers against the service definition; unknown attributes (FixMyStreet sends its own,
    e.g. attribute[fixmystreet_id]) are ignored, not refused."""
    clean: dict = {}
    errors: list[tuple[str, str]] = []
    for attr in service_attributes(category_code):
        given = answers.get(attr.code, [])
        if not given:
            if attr.required and attr.variable:
                errors.append((f"缺少必填属性 {attr.code}（{attr.description}）", f"attribute[{attr.code}] is required"))
            continue
        if attr.datatype == ServiceAttribute.Datatype.MULTI:
            bad = [v for v in given if v not in attr.keys]
            if bad:
                errors.append((f"属性 {attr.code} 的取值无效：{', '.join(bad)}", f"attribute[{attr.code}] has invalid values: {', '.join(bad)}"))
                continue
            clean[attr.code] = list(dict.fromkeys(given))
            continue
        one = given[-1]
        if attr.datatype == ServiceAttribute.Datatype.SINGLE and one not in attr.keys:
            errors.append((f"属性 {attr.code} 的取值无效：{one}（可选 {', '.join(attr.keys)}）", f"attribute[{attr.code}] must be one of {', '.join(attr.keys)}"))
            continue
        if attr.datatype == ServiceAttribute.Datatype.NUMBER:
            try:
                number = float(one.replace(",", "."))
            except ValueError:
                errors.append((f"属性 {attr.code} 应为数字", f"attribute[{attr.code}] must be a number"))
                continue
            clean[attr.code] = number
            continue
        if attr.datatype == ServiceAttribute.Datatype.DATETIME:
            try:
                clean[attr.code] = p.parse_datetime(one, f"attribute[{attr.code}]").isoformat()
            except InvalidInput:
                errors.append((f"属性 {attr.code} 应为 ISO 8601 日期时间", f"attribute[{attr.code}] must be an ISO 8601 datetime"))
            continue
        if attr.datatype == ServiceAttribute.Datatype.STRING and ("\n" in one or "\r" in one):
            one = " ".join(one.split())
        clean[attr.code] = one[:1000]
    if errors:
        raise InvalidInput("；".join(e[0] for e in errors), "; ".join(e[1] for e in errors), code="invalid_attribute",
                           details=[e[1] for e in errors])
    return clean


def _location(data) -> dict:
    """One of lat & long, address_string, address_id (spec). `lon` is accepted for `long`."""
    lat, lon = p.value(data, "lat"), p.value(data, "long") or p.value(data, "lon")
    address = p.value(data, "address_string")
    address_id = p.value(data, "address_id")
    crs = (p.value(data, "crs") or "wgs84").lower()
    if lat or lon:
        if not (lat and lon):
            raise InvalidInput("lat 和 long 必须同时提供", "lat and long must both be sent", code="location_incomplete")
        y, x = p.coordinate(lat, "lat"), p.coordinate(lon, "long")
        if not (-90 <= y <= 90 and -180 <= x <= 180):
            raise InvalidInput("坐标超出范围", "lat/long out of range", code="invalid_coordinate")
        return {"lon": x, "lat": y, "crs": crs, "address": address}
    if address_id:
        from cityops.geo import index

        node = index.get_index().nodes.get(address_id)
        if node is None:
            raise NotFound(f"address_id「{address_id}」不存在", f"address_id '{address_id}' not found", code="address_id_not_found")
        return {"lon": node.centroid_lon, "lat": node.centroid_lat, "crs": "wgs84", "address": address or node.name}
    if address:
        return {"address": address}
    raise InvalidInput(
        "需要位置：lat 和 long、address_string 或 address_id 之一",
        "A location is required: lat & long, address_string or address_id",
        code="location_required",
    )


@dataclass
class Posted:
    case: Case
    link: Open311Request
    handle_limit_wh: float  # of the category: what the answer's service_notice says


def request_create(*, client: Open311Client, data) -> Posted:
    """POST requests → a case (source open311) with its clock running, plus what only Open311 carries.
    The submitter's e-mail and names stay in Open311Request and are never answered by a GET."""
    category = category_for_service(p.value(data, "service_code")) if p.value(data, "service_code") else None
    if category is None:
        raise InvalidInput("缺少 service_code", "service_code is missing", code="service_code_missing")
    attributes = _check_attributes(category.code, _attribute_answers(data))
    where = _location(data)
    description = (data.get("description") or "").replace("\r\n", "\n").strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput("描述超过 4000 字", "description is longer than 4,000 characters", code="description_too_long")
    if not description:
        # Optional in the spec; a case needs one: the service name and the answers say what it is.
        described = "，".join(f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in attributes.items())
        description = f"{category.name_zh}（Open311）" + (f"：{described}" if described else "")
    media = p.value(data, "media_url")
    if media:
        try:
            URLValidator(schemes=["http", "https"])(media)
        except ValidationError:
            raise InvalidInput("media_url 不是有效的 http(s) 地址", "media_url is not a valid http(s) URL", code="invalid_media_url") from None
        if len(media) > 500:
            raise InvalidInput("media_url 过长", "media_url is too long (max 500)", code="invalid_media_url")
    email = p.value(data, "email")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidInput("email 格式不正确", "email is not a valid address", code="invalid_email") from None
    with transaction.atomic():
        intake = case_create(
            actor=None,
            category=category.code,
            description=description,
            source=Case.Source.OPEN311,
            lon=where.get("lon"),
            lat=where.get("lat"),
            crs=where.get("crs", "wgs84"),
            address=where.get("address", ""),
            reporter_phone=p.value(data, "phone"),
        )
        link = Open311Request.objects.create(
            case=intake.case,
            client=client,
            token=secrets.token_urlsafe(12),
            attributes=attributes,
            media_url=media,
            email=email,
            first_name=p.value(data, "first_name")[:100],
            last_name=p.value(data, "last_name")[:100],
            device_id=p.value(data, "device_id")[:100],
            account_id=p.value(data, "account_id")[:100],
        )
        timeline_append(
            subject=intake.case, action="open311_intake", actor=None, actor_name=f"open311:{client.name}",
            from_state=intake.case.state, to_state=intake.case.state,
            params={"client": client.name, "attributes": attributes, "media_url": media},
        )
    return Posted(intake.case, link, category.handle_limit_wh)


# --- POST servicerequestupdates (FixMyStreet extension) -------------------------------------------------
def update_create(*, client: Open311Client, data) -> str:
    """A comment from the client's user on a request: recorded on the case's timeline for the operators.
    It never changes the state: a citizen's "CLOSED" is a remark, not a closing (only the workflow closes)."""
    code = p.value(data, "service_request_id")
    if not code:
        raise InvalidInput("缺少 service_request_id", "service_request_id is missing", code="request_id_missing")
    case = Case.objects.filter(code=code).first()
    if case is None:
        raise NotFound(f"service_request_id「{code}」不存在", f"service_request_id '{code}' not found", code="request_not_found")
    text = (data.get("description") or "").strip()
    if not text:
        raise InvalidInput("缺少 description", "description is missing", code="description_required")
    if len(text) > MAX_DESCRIPTION:
        raise InvalidInput("描述超过 4000 字", "description is longer than 4,000 characters", code="description_too_long")
    media = p.value(data, "media_url")
    if media:
        try:
            URLValidator(schemes=["http", "https"])(media)
        except ValidationError:
            raise InvalidInput("media_url 不是有效的 http(s) 地址", "media_url is not a valid http(s) URL", code="invalid_media_url") from None
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)  # the entry records its state and version
        entry = timeline_append(
            subject=case, action="open311_update", actor=None, actor_name=f"open311:{client.name}",
            from_state=case.state, to_state=case.state, note=text,
            params={"client": client.name, "status_claimed": p.value(data, "status").upper(),
                    "update_id_ext": p.value(data, "update_id_ext")[:80], "media_url": media},
        )
    return str(entry.pk)


# --- service definitions shipped with cityops ---------------------------------------------------------------
def attributes_load() -> int:
    """(Re)load data/attributes.json: insert missing attributes, leave edited ones alone. Idempotent; the
    0002 migration does the same at install time."""
    import json
    from pathlib import Path

    rows = json.loads((Path(__file__).parent / "data" / "attributes.json").read_text(encoding="utf-8"))
    created = 0
    for row in rows:
        _obj, made = ServiceAttribute.objects.get_or_create(
            category_code=row["category_code"], code=row["code"],
            defaults={k: v for k, v in row.items() if k not in ("category_code", "code")},
        )
        created += made
    return created
