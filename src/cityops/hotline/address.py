"""Spoken addresses → region and point, for Wuhan hotline calls.

geo.selectors.locate_address knows districts (cpca) and the city's street/community names; callers also name
landmarks and roads ("汉口火车站附近", "光谷广场", "解放大道"), mistype district names ("武倡区", "乔口") and leave
out "区"/"街道". This module adds what geo lacks, from the shipped gazetteer (data/gazetteer.csv: a landmark
→ its district and an approximate WGS-84 point; a road → the districts it runs through):

1. fix known typos of district names;
2. find gazetteer names (longest first); a name that contains another district's name ("黎黄陂路" is in 江岸区,
   not 黄陂区) is hidden from the district matcher;
3. ask geo for the region; if the text names no district itself and a landmark/road of a single district
   was found, that district wins, and geo is asked again with it (so "中南路附近" still finds 中南路街道);
4. the point is the landmark's own point when there is one, else the centroid of the region found.

光谷 (东湖高新区) is a development zone, not one of the 13 districts: its places map to 洪山区, where they lie.
"""

from __future__ import annotations

import csv
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from cityops.core.errors import CityopsError

GAZETTEER_PATH = Path(__file__).resolve().parent / "data" / "gazetteer.csv"

DISTRICTS = {
    "420102": "江岸区", "420103": "江汉区", "420104": "硚口区", "420105": "汉阳区", "420106": "武昌区",
    "420107": "青山区", "420111": "洪山区", "420112": "东西湖区", "420113": "汉南区", "420114": "蔡甸区",
    "420115": "江夏区", "420116": "黄陂区", "420117": "新洲区",
}
# Misspellings heard on the line (same sound, similar shape). Only unambiguous ones: "蔡店" is a real street of
# 黄陂区, so it is not "corrected" to 蔡甸.
TYPOS = {
    "武倡": "武昌", "武唱": "武昌", "江汗": "江汉", "江漢": "江汉", "乔口": "硚口", "桥口": "硚口", "峤口": "硚口",
    "汉杨": "汉阳", "汉扬": "汉阳", "洪三区": "洪山区", "宏山": "洪山", "黄坡": "黄陂", "黄披": "黄陂",
    "新州区": "新洲区", "江厦": "江夏", "东西胡": "东西湖", "青三区": "青山区", "江按区": "江岸区", "江暗": "江岸",
    "蔡店区": "蔡甸区", "汉难": "汉南",
    "街到": "街道", "社去": "社区", "武汉市": "",
}


@dataclass(frozen=True)
class Place:
    name: str
    aliases: tuple[str, ...]
    kind: str  # landmark | road
    districts: tuple[str, ...]
    lon: float | None
    lat: float | None

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "districts": [{"code": c, "name": DISTRICTS.get(c, c)} for c in self.districts],
        }


def read_gazetteer(path: Path = GAZETTEER_PATH) -> list[Place]:
    places = []
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            aliases = tuple(a for a in (row["aliases"] or row["name"]).split("|") if a)
            places.append(Place(
                name=row["name"],
                aliases=aliases,
                kind=row["kind"],
                districts=tuple(c for c in row["districts"].split("|") if c),
                lon=float(row["lon"]) if row["lon"] else None,
                lat=float(row["lat"]) if row["lat"] else None,
            ))
    return places


class Gazetteer:
    def __init__(self, places: list[Place]) -> None:
        self.places = places
        self.by_alias = sorted(((alias, p) for p in places for alias in p.aliases), key=lambda ap: -len(ap[0]))

    def find(self, text: str) -> list[tuple[int, int, Place]]:
        """Non-overlapping matches (start, end, place), longest alias first, in text order."""
        taken = [False] * len(text)
        found = []
        for alias, place in self.by_alias:
            start = text.find(alias)
            while start >= 0:
                end = start + len(alias)
                if not any(taken[start:end]):
                    for i in range(start, end):
                        taken[i] = True
                    found.append((start, end, place))
                start = text.find(alias, end)
        return sorted(found, key=lambda m: m[0])


_gazetteer: Gazetteer | None = None


def gazetteer() -> Gazetteer:
    global _gazetteer
    if _gazetteer is None:
        _gazetteer = Gazetteer(read_gazetteer())
    return _gazetteer


def _stems() -> list[tuple[str, str]]:
    """(form, district code) of every district name, full and without 区, longest first."""
    forms = []
    for code, name in DISTRICTS.items():
        forms.append((name, code))
        forms.append((name[:-1], code))
    return sorted(forms, key=lambda fc: -len(fc[0]))


STEMS = _stems()


def fix_typos(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").strip()
    text = "".join(text.split())
    for wrong, right in TYPOS.items():
        text = text.replace(wrong, right)
    return text


def named_district(text: str) -> str | None:
    """The district the text names itself (full name or stem), or None; the first one named wins."""
    best = None
    for form, code in STEMS:
        pos = text.find(form)
        if pos >= 0 and (best is None or pos < best[0]):
            best = (pos, code)
    return best[1] if best else None


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            chars[i] = "□"
    return "".join(chars)


@dataclass
class ParsedAddress:
    text: str
    location: object | None  # geo.location.Location
    point: tuple[float, float] | None
    place: Place | None
    method: str  # region | landmark | road | none

    def region_dict(self) -> dict | None:
        loc = self.location
        if loc is None or loc.district is None:
            return None
        out = {level: (ref.as_dict() if (ref := getattr(loc, level)) is not None else None)
               for level in ("district", "street", "community")}
        out["method"] = self.method
        return out

    def point_dict(self) -> dict | None:
        if self.point is None:
            return None
        return {"lon": round(self.point[0], 6), "lat": round(self.point[1], 6)}


def _locate(text: str):
    from cityops.geo.selectors import locate_address

    try:
        return locate_address(text=text)
    except CityopsError:
        return None


def parse_address(text: str) -> ParsedAddress:
    """Region and point of a spoken address; every part may be None (nothing recognised)."""
    fixed = fix_typos(text)
    if not fixed:
        return ParsedAddress("", None, None, None, "none")
    matches = gazetteer().find(fixed)
    own_district = named_district(_mask(fixed, [(s, e) for s, e, _p in matches]))
    # Hide names that would mislead the district matcher ("黎黄陂路" → 黄陂区).
    misleading = [(s, e) for s, e, p in matches
                  if (d := named_district(fixed[s:e])) is not None and d not in p.districts]
    geo_text = _mask(fixed, misleading)
    location = _locate(geo_text)
    landmark = next((p for _s, _e, p in matches if p.kind == "landmark"), None)
    road = next((p for _s, _e, p in matches if p.kind == "road"), None)
    place = landmark or road
    method = "region" if location is not None else "none"

    if own_district is None and place is not None and len(place.districts) == 1:
        district = place.districts[0]
        if location is None or location.district is None or location.district.code != district:
            prefixed = _locate(DISTRICTS[district] + geo_text)
            if prefixed is not None and prefixed.district is not None and prefixed.district.code == district:
                location = prefixed
            else:
                location = _locate(DISTRICTS[district])
        method = place.kind
    elif place is not None and location is not None and location.district is not None \
            and location.district.code in place.districts and location.street is None:
        method = place.kind

    point = None
    if landmark is not None and landmark.lon is not None and (
        location is None or location.district is None or location.district.code in landmark.districts
    ):
        point = (landmark.lon, landmark.lat)
        method = "landmark"
    elif location is not None:
        point = (location.lon, location.lat)
    return ParsedAddress(fixed, location, point, place, method)


class _Cache:
    """Recent answers, per geo index version (regions edited → answers recomputed)."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.data: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.data.get(key)
            if value is not None:
                self.data.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self.lock:
            self.data[key] = value
            if len(self.data) > self.size:
                self.data.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


_cache = _Cache()


def parse_address_cached(text: str) -> ParsedAddress:
    from cityops.geo import index

    key = (index.get_index().token, text)
    hit = _cache.get(key)
    if hit is None:
        hit = parse_address(text)
        _cache.put(key, hit)
    return hit
