"""Every write to regions: GeoJSON import and grid generation. All-or-nothing, and each bumps the index
version so that every process rebuilds its point index."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import shapely
from django.conf import settings
from django.db import transaction
from shapely.geometry.base import BaseGeometry

from cityops.core.errors import InvalidInput, NotFound
from cityops.core.timeline import timeline_append
from cityops.geo import index
from cityops.geo.geometry import clip_cells, shape_fields, within_with_tolerance
from cityops.geo.models import CODE_LENGTH, Region
from cityops.geo.names import short_name

log = logging.getLogger(__name__)

LEVEL_NAMES_ZH = {"city": "市", "district": "区", "street": "街道", "community": "社区", "grid": "网格"}
PARENT_LEVEL = {"district": "city", "street": "district", "community": "street", "grid": "community"}
MAX_GRIDS_PER_COMMUNITY = 99  # two-digit serial (RULES.md §1)
MAX_ERRORS_LISTED = 50


class _Problems:
    """Collects every problem of an import so the user can fix the file in one go."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, code: str, zh: str, en: str, feature: int | None = None, region_code: str | None = None) -> None:
        if len(self.items) < MAX_ERRORS_LISTED:
            self.items.append(
                {"code": code, "feature": feature, "region_code": region_code, "message": zh, "message_en": en}
            )

    def raise_if_any(self) -> None:
        if not self.items:
            return
        first = self.items[0]
        where_zh = f"第 {first['feature'] + 1} 个要素：" if first["feature"] is not None else ""
        where_en = f"feature {first['feature'] + 1}: " if first["feature"] is not None else ""
        more_zh = f"（另有 {len(self.items) - 1} 个问题）" if len(self.items) > 1 else ""
        more_en = f" (and {len(self.items) - 1} more problems)" if len(self.items) > 1 else ""
        raise InvalidInput(
            f"未导入任何区域。{where_zh}{first['message']}{more_zh}",
            f"Nothing was imported. {where_en}{first['message_en']}{more_en}",
            code=first["code"],
            details=self.items,
        )


def _invalid_geojson(zh: str, en: str) -> InvalidInput:
    return InvalidInput(f"未导入任何区域：{zh}", f"Nothing was imported: {en}", code="invalid_geojson")


def _read_features(path_or_data) -> list[dict]:
    data = path_or_data
    if isinstance(path_or_data, (str, Path)):
        path = Path(path_or_data)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise _invalid_geojson(f"文件不存在：{path}", f"file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise _invalid_geojson(f"无法读取文件 {path}：{exc}", f"cannot read {path}: {exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _invalid_geojson(
                f"不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）",
                f"not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})",
            ) from None
    elif isinstance(path_or_data, (bytes, bytearray)):
        try:
            data = json.loads(path_or_data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise _invalid_geojson(f"不是有效的 JSON：{exc}", f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _invalid_geojson("顶层应是 GeoJSON 对象", "the top level must be a GeoJSON object")
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise _invalid_geojson("FeatureCollection 缺少 features 数组", "FeatureCollection has no features array")
    elif kind == "Feature":
        features = [data]
    else:
        raise _invalid_geojson(
            f"类型应为 FeatureCollection 或 Feature，收到 {kind!r}",
            f"type must be FeatureCollection or Feature, got {kind!r}",
        )
    if not features:
        raise _invalid_geojson("没有要素", "there are no features")
    return features


def _parse_geometry(raw, n: int, problems: _Problems, code: str | None) -> BaseGeometry | None:
    if not isinstance(raw, dict) or raw.get("type") not in ("Polygon", "MultiPolygon"):
        kind = raw.get("type") if isinstance(raw, dict) else type(raw).__name__
        problems.add(
            "invalid_geometry",
            f"几何类型应为 Polygon 或 MultiPolygon，收到 {kind}",
            f"geometry must be a Polygon or MultiPolygon, got {kind}",
            n,
            code,
        )
        return None
    try:
        geom = shapely.from_geojson(json.dumps(raw))
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        problems.add("invalid_geometry", f"几何无法解析：{exc}", f"geometry cannot be read: {exc}", n, code)
        return None
    if geom.is_empty:
        problems.add("invalid_geometry", "几何为空", "geometry is empty", n, code)
        return None
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    if not all(math.isfinite(v) for v in geom.bounds) or min_lon < -180 or max_lon > 180 or min_lat < -90 or max_lat > 90:
        problems.add(
            "invalid_geometry",
            "坐标超出经纬度范围（应为 WGS-84 经度、纬度）",
            "coordinates out of range (expected WGS-84 longitude, latitude)",
            n,
            code,
        )
        return None
    if not geom.is_valid:
        why = shapely.is_valid_reason(geom)
        problems.add(
            "invalid_geometry",
            f"几何无效（如自相交）：{why}",
            f"invalid geometry (e.g. self-intersection): {why}",
            n,
            code,
        )
        return None
    return geom


def _parent_for(level: str, code: str, parent_code: str | None) -> str | None:
    """Parent code of a new region: the one given, else the one its code implies."""
    if parent_code:
        return parent_code
    if level == "district":
        return code[:4] + "00"
    if level in ("street", "community", "grid"):
        return code[: CODE_LENGTH[PARENT_LEVEL[level]]]
    return None


@transaction.atomic
def regions_import_geojson(
    *, path_or_data, level: str, parent_code: str | None = None, actor=None, source: str = ""
) -> list[Region]:
    """Import polygons of one level from GeoJSON (features with `code` or `adcode`, and `name`).

    Every problem is collected (bad JSON, non-polygon, self-intersection, bad or duplicate code, unknown parent,
    polygon outside its parent) and nothing is written unless there are none. A district may have no parent
    when the city is not loaded; every other level needs its parent.
    """
    if level not in PARENT_LEVEL and level != "city":
        raise InvalidInput(
            f"未知层级 {level!r}，可选 city、district、street、community、grid",
            f"Unknown level {level!r}; use city, district, street, community or grid",
            code="invalid_level",
        )
    if parent_code:
        parent = Region.objects.filter(code=parent_code).first()
        if parent is None:
            raise InvalidInput(
                f"未导入任何区域：上级区域 {parent_code} 不存在",
                f"Nothing was imported: parent region {parent_code} does not exist",
                code="unknown_parent",
            )
        if level == "city" or parent.level != PARENT_LEVEL[level]:
            raise InvalidInput(
                f"未导入任何区域：{LEVEL_NAMES_ZH[level]}的上级应是{LEVEL_NAMES_ZH.get(PARENT_LEVEL.get(level, ''), '无')}，"
                f"而 {parent_code} 是{LEVEL_NAMES_ZH[parent.level]}",
                f"Nothing was imported: the parent of a {level} must be a {PARENT_LEVEL.get(level, 'nothing')}, "
                f"but {parent_code} is a {parent.level}",
                code="invalid_parent",
            )
    features = _read_features(path_or_data)
    problems = _Problems()
    want_length = CODE_LENGTH[level]
    seen: set[str] = set()
    parsed: list[tuple[int, str, str, BaseGeometry, str | None]] = []
    for n, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.add("invalid_geojson", "不是 GeoJSON Feature", "not a GeoJSON Feature", n)
            continue
        props = feature.get("properties") or {}
        code = str(props.get("code") or props.get("adcode") or "").strip()
        name = str(props.get("name") or "").strip()
        if not code or not name:
            problems.add(
                "missing_property",
                "缺少属性 code（或 adcode）或 name",
                "property code (or adcode) or name is missing",
                n,
                code or None,
            )
            continue
        if not code.isdigit() or len(code) != want_length:
            problems.add(
                "invalid_code",
                f"编码 {code} 应为 {want_length} 位数字（{LEVEL_NAMES_ZH[level]}）",
                f"code {code} must be {want_length} digits for a {level}",
                n,
                code,
            )
            continue
        if code in seen:
            problems.add("duplicate_code", f"编码 {code} 在文件中重复", f"code {code} appears twice in the file", n, code)
            continue
        seen.add(code)
        geom = _parse_geometry(feature.get("geometry"), n, problems, code)
        if geom is None:
            continue
        own_parent = _parent_for(level, code, parent_code)
        if own_parent and level != "district" and not code.startswith(own_parent):
            problems.add(
                "invalid_code",
                f"编码 {code} 应以上级编码 {own_parent} 开头",
                f"code {code} must start with its parent's code {own_parent}",
                n,
                code,
            )
            continue
        parsed.append((n, code, name, geom, own_parent))

    existing = set(Region.objects.filter(code__in=list(seen)).values_list("code", flat=True)) if seen else set()
    parent_codes = {p[4] for p in parsed if p[4]}
    parents = {r.code: r for r in Region.objects.filter(code__in=list(parent_codes))}
    parent_shapes = {code: shapely.from_geojson(json.dumps(r.geometry)) for code, r in parents.items()}
    to_create: list[Region] = []
    for n, code, name, geom, own_parent in parsed:
        if code in existing:
            problems.add("duplicate_code", f"编码 {code} 已存在", f"code {code} already exists", n, code)
            continue
        parent = parents.get(own_parent) if own_parent else None
        if own_parent and parent is None:
            if level == "district" and not parent_code:
                parent = None  # the city is not loaded: a district may stand alone
            else:
                problems.add(
                    "unknown_parent",
                    f"上级区域 {own_parent} 不存在",
                    f"parent region {own_parent} does not exist",
                    n,
                    code,
                )
                continue
        if parent is not None and parent.level != PARENT_LEVEL.get(level):
            problems.add(
                "invalid_parent",
                f"{own_parent} 是{LEVEL_NAMES_ZH[parent.level]}，不能作为{LEVEL_NAMES_ZH[level]}的上级",
                f"{own_parent} is a {parent.level} and cannot be the parent of a {level}",
                n,
                code,
            )
            continue
        if parent is not None and not within_with_tolerance(geom, parent_shapes[parent.code]):
            problems.add(
                "outside_parent",
                f"{name}（{code}）的边界超出上级区域 {parent.name}（{parent.code}）",
                f"{name} ({code}) extends outside its parent {parent.name} ({parent.code})",
                n,
                code,
            )
            continue
        to_create.append(
            Region(code=code, name=name, level=level, parent=parent, generated=False,
                   source=source or "GeoJSON import", **shape_fields(geom))
        )
    problems.raise_if_any()
    created = Region.objects.bulk_create(to_create, batch_size=1000)
    index.bump_version()
    log.info("geo import: %d %s regions by %s", len(created), level, actor or "system")
    # Reference data changes are on the timeline too: one entry on each parent region that received children.
    by_parent: dict[str, list[str]] = {}
    for region in created:
        key = region.parent.code if region.parent else settings.CITYOPS_CITY_CODE
        by_parent.setdefault(key, []).append(region.code)
    for key, codes in sorted(by_parent.items()):
        timeline_append(
            subject=("geo.region", key),
            action="regions_import",
            actor=actor,
            params={"level": level, "count": len(codes), "codes": codes[:200], "source": source},
        )
    return created


def _communities_under(parent: Region) -> list[Region]:
    if parent.level == "community":
        return [parent]
    return list(Region.objects.filter(level="community", code__startswith=parent.code).order_by("code"))


def grid_cells_for(community_code: str, geom: BaseGeometry, size_m: float) -> list[BaseGeometry]:
    """The cells of one community; raises InvalidInput when they need more than the 99 serials a grid code has."""
    cells = clip_cells(geom, size_m)
    if not cells or len(cells) > MAX_GRIDS_PER_COMMUNITY:
        raise InvalidInput(
            f"社区 {community_code} 按 {size_m:g} 米划分会超过 {MAX_GRIDS_PER_COMMUNITY} 个网格"
            f"（网格编码只有 2 位序号），请加大网格边长",
            f"Community {community_code} would need more than {MAX_GRIDS_PER_COMMUNITY} grids of {size_m:g} m "
            f"(a grid code has a 2-digit serial); use a larger size",
            code="too_many_cells",
        )
    return cells


def grid_regions(community: Region | Any, cells: list[BaseGeometry], *, source: str, generated: bool = True) -> list[Region]:
    label = short_name(community.name)
    return [
        Region(
            code=f"{community.code}{serial:02d}",
            name=f"{label}{serial:02d}号网格",
            level="grid",
            parent=community,
            generated=generated,
            source=source,
            **shape_fields(cell),
        )
        for serial, cell in enumerate(cells, start=1)
    ]


@transaction.atomic
def grids_generate(*, parent_code: str, size_m: float = 500, replace: bool = False, actor=None) -> list[Region]:
    """Cut every community under `parent_code` (a community, street, district or the city) into square grids
    of size_m metres, clipped to the community. Small leftover pieces (< 20 % of a cell) are merged into a
    neighbouring cell, so grids cover the whole community. Codes: community code + 2-digit serial, in reading
    order (north-west first). More than 99 cells in one community is refused (code `too_many_cells`).
    Existing grids are refused (code `grids_exist`) unless replace=True, which deletes them first.
    """
    try:
        size_m = float(size_m)
    except (TypeError, ValueError):
        size_m = math.nan
    if not math.isfinite(size_m) or not 10 <= size_m <= 20_000:
        raise InvalidInput(
            "网格边长应在 10～20000 米之间", "Grid size must be between 10 and 20000 metres", code="invalid_size"
        )
    parent = Region.objects.filter(code=parent_code).first()
    if parent is None:
        raise NotFound(f"区域 {parent_code} 不存在", f"Region {parent_code} does not exist", code="unknown_parent")
    if parent.level == "grid":
        raise InvalidInput("网格下不能再划分网格", "A grid cannot be divided into grids", code="invalid_parent")
    communities = _communities_under(parent)
    if not communities:
        raise InvalidInput(
            f"{parent.name}（{parent.code}）下没有社区，无法生成网格",
            f"{parent.name} ({parent.code}) has no communities to divide into grids",
            code="no_communities",
        )
    existing = Region.objects.filter(level="grid", parent__in=communities)
    if existing.exists():
        if not replace:
            raise InvalidInput(
                f"{parent.name}（{parent.code}）下已有 {existing.count()} 个网格；如需重新生成请使用替换选项",
                f"{parent.name} ({parent.code}) already has {existing.count()} grids; use replace to regenerate them",
                code="grids_exist",
            )
        existing.delete()
    regions: list[Region] = []
    source = f"按 {size_m:g} 米方格生成 / generated as {size_m:g} m squares"
    for community in communities:
        geom = shapely.from_geojson(json.dumps(community.geometry))
        cells = grid_cells_for(community.code, geom, size_m)
        regions.extend(grid_regions(community, cells, source=source))
    created = Region.objects.bulk_create(regions, batch_size=1000)
    index.bump_version()
    log.info("geo grids: %d grids under %s by %s", len(created), parent_code, actor or "system")
    timeline_append(
        subject=("geo.region", parent_code),
        action="grids_generate",
        actor=actor,
        params={"size_m": size_m, "count": len(created), "replaced": bool(replace)},
    )
    return created
