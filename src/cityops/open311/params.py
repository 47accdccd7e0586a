"""Reading GeoReport v2 arguments the way real clients send them.

- "Optional" means an empty parameter equals an absent one (spec, "Optional Arguments"): FixMyStreet sends
  `jurisdiction_id=` when a body has none configured.
- Dates are W3C-DTF; an unencoded `+08:00` arrives as ` 08:00` (a form-decoded plus is a space).
- Lists are comma separated and may also be repeated (`status=open&status=closed`).
- Status values are matched case-insensitively (FMS writes OPEN/CLOSED, the spec open/closed).
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta

from django.utils import timezone

from cityops.core.errors import InvalidInput, NotFound
from cityops.open311 import conf
from cityops.open311.status import KNOWN_STATUSES

_SPACE_OFFSET = re.compile(r" (\d{2}:?\d{2})$")


def value(params, name: str) -> str:
    raw = params.get(name)
    return raw.strip() if isinstance(raw, str) else ""


def values(params, name: str) -> list[str]:
    out: list[str] = []
    getlist = getattr(params, "getlist", None)
    raws = getlist(name) if getlist else [params.get(name)]
    for raw in raws:
        if isinstance(raw, str):
            out.extend(part.strip() for part in raw.split(",") if part.strip())
    return list(dict.fromkeys(out))


def check_jurisdiction(params) -> None:
    """One jurisdiction: absent or empty is fine; another one is 404 (spec: 'jurisdiction_id not found')."""
    given = value(params, "jurisdiction_id").lower()
    if not given:
        return
    ours = str(conf.get("JURISDICTION")).lower()
    if given.removeprefix("www.") != ours.removeprefix("www."):
        raise NotFound(
            f"未找到 jurisdiction_id「{given}」，本接口服务 {ours}",
            f"jurisdiction_id '{given}' not found; this endpoint serves {ours}",
            code="jurisdiction_not_found",
        )


def parse_datetime(raw: str, name: str) -> datetime:
    text = _SPACE_OFFSET.sub(r"+\1", raw.strip())
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{name} 应为 W3C 日期时间，例如 2026-01-01T00:00:00+08:00",
            f"{name} must be a W3C datetime, e.g. 2026-01-01T00:00:00Z",
            code="invalid_date",
        ) from None
    if timezone.is_naive(parsed):
        # The spec requires a zone; a client that forgets it most likely means the city's local time.
        parsed = timezone.make_aware(parsed)
    return parsed


def date_range(params, *, default_days: int | None = None) -> tuple[datetime, datetime]:
    """start/end of a search: at most MAX_DAYS apart; missing ends default to the most recent span."""
    max_days = int(conf.get("MAX_DAYS"))
    span = timedelta(days=default_days or max_days)
    start_raw, end_raw = value(params, "start_date"), value(params, "end_date")
    start = parse_datetime(start_raw, "start_date") if start_raw else None
    end = parse_datetime(end_raw, "end_date") if end_raw else None
    now = timezone.now()
    if start is None and end is None:
        end, start = now, now - span
    elif start is None:
        start = end - span
    elif end is None:
        end = min(now, start + timedelta(days=max_days))
        if end < start:
            end = start + span
    if end < start:
        raise InvalidInput("end_date 早于 start_date", "end_date is before start_date", code="invalid_date_range")
    if end - start > timedelta(days=max_days):
        raise InvalidInput(
            f"查询时间跨度不能超过 {max_days} 天",
            f"start_date and end_date may not span more than {max_days} days",
            code="date_range_too_long",
        )
    return start, end


def statuses(params) -> set[str]:
    wanted = {s.lower().replace(" ", "_") for s in values(params, "status")}
    unknown = wanted - KNOWN_STATUSES
    if unknown:
        raise InvalidInput(
            f"未知状态 {', '.join(sorted(unknown))}，可选 open、closed",
            f"Unknown status {', '.join(sorted(unknown))}; use open or closed",
            code="invalid_status",
        )
    return wanted


MAX_PAGE = 1_000_000  # a million pages of at most MAX_ROWS: far past any city's requests


def page(params) -> tuple[int, int]:
    """The widely implemented pagination extension (page, page_size), capped at MAX_ROWS."""
    max_rows = int(conf.get("MAX_ROWS"))
    try:
        size = int(value(params, "page_size") or max_rows)
        number = int(value(params, "page") or 1)
    except ValueError:
        raise InvalidInput("page 和 page_size 应为正整数", "page and page_size must be positive integers", code="invalid_page") from None
    if size < 1 or number < 1:
        raise InvalidInput("page 和 page_size 应为正整数", "page and page_size must be positive integers", code="invalid_page")
    if number > MAX_PAGE:  # its offset would not fit the database's integer (a 500 before)
        raise InvalidInput(f"page 不能大于 {MAX_PAGE}", f"page may not be over {MAX_PAGE}", code="invalid_page")
    return number, min(size, max_rows)


def coordinate(raw: str, name: str) -> float:
    """A lat or long from a form: a string, maybe with spaces or a decimal comma (European keyboards)."""
    text = raw.strip().replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise InvalidInput(f"{name} 不是有效的数字：{raw!r}", f"{name} is not a valid number: {raw!r}", code="invalid_coordinate")
    return number
