"""Spoken addresses → region and point, for hotline calls.

geo.selectors.locate_address knows districts (cpca) and the city's street/community names; callers also name
landmarks and roads ("汉口火车站附近", "光谷广场", "解放大道"), mistype district names ("武倡区", "乔口") and leave
out "区"/"街道". This module adds what geo lacks. What it knows of one city is data, not code (data/README.md):

- data/gazetteer.csv: a landmark → its district and an approximate WGS-84 point; a road → the districts it
  runs through;
- data/typos.csv: misspellings heard on the line, replaced in the file's order;
- the districts (codes and names) are the city's `district` regions, read from the geo index, so they follow
  the Region table.

1. fix known typos;
2. find gazetteer names (longest first); a name that contains another district's name ("黎黄陂路" is in 江岸区,
   not 黄陂区) is hidden from the district matcher;
3. ask geo for the region; if the text names no district itself and a landmark/road of a single district
   was found, that district wins, and geo is asked again with it (so "中南路附近" still finds 中南路街道);
4. the point is the landmark's own point when there is one, else the centroid of the region found.
"""

from __future__ import annotations

import csv
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cityops.core.errors import CityopsError

DATA = Path(__file__).resolve().parent / "data"
GAZETTEER_PATH = DATA / "gazetteer.csv"
TYPOS_PATH = DATA / "typos.csv"


@cache
def typos() -> tuple[tuple[str, str], ...]:
    """(wrong, right) pairs of data/typos.csv, in the file's order (read once)."""
    with TYPOS_PATH.open(encoding="utf-8") as f:
        return tuple((row["wrong"], row["right"]) for row in csv.DictReader(f))


@dataclass(frozen=True)
class Districts:
    """The city's districts: code → name, and the forms a caller names one by (the full name, and the name
    without its last character, 区/县/市), longest first."""

    names: dict[str, str]
    forms: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, nodes) -> Districts:
        names = {n.code: n.name for n in sorted(nodes, key=lambda n: n.code) if n.level == "district"}
        forms = []
        for code, name in names.items():
            forms.append((name, code))
            if len(name) > 2:
                forms.append((name[:-1], code))
        return cls(names, tuple(sorted(forms, key=lambda fc: -len(fc[0]))))

    def named(self, text: str) -> str | None:
        """The district the text names itself (full name or stem), or None; the first one named wins."""
        best = None
        for form, code in self.forms:
            pos = text.find(form)
            if pos >= 0 and (best is None or pos < best[0]):
                best = (pos, code)
        return best[1] if best else None


_districts: tuple[str, Districts] | None = None


def districts() -> Districts:
    """The districts of the current Region table (rebuilt when the geo index is)."""
    global _districts
    from cityops.geo import index

    current = index.get_index()
    known = _districts
    if known is None or known[0] != current.token:
        known = _districts = (current.token, Districts.of(current.nodes.values()))
    return known[1]


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
            "districts": [{"code": c, "name": districts().names.get(c, c)} for c in self.districts],
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


def fix_typos(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").strip()
    text = "".join(text.split())
    for wrong, right in typos():
        text = text.replace(wrong, right)
    return text


def named_district(text: str) -> str | None:
    """The district the text names itself, or None (Districts.named over the current regions)."""
    return districts().named(text)


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
    city = districts()
    own_district = city.named(_mask(fixed, [(s, e) for s, e, _p in matches]))
    # Hide names that would mislead the district matcher ("黎黄陂路" → 黄陂区).
    misleading = [(s, e) for s, e, p in matches
                  if (d := city.named(fixed[s:e])) is not None and d not in p.districts]
    geo_text = _mask(fixed, misleading)
    location = _locate(geo_text)
    landmark = next((p for _s, _e, p in matches if p.kind == "landmark"), None)
    road = next((p for _s, _e, p in matches if p.kind == "road"), None)
    place = landmark or road
    method = "region" if location is not None else "none"

    if own_district is None and place is not None and len(place.districts) == 1 \
            and place.districts[0] in city.names:
        district = place.districts[0]
        if location is None or location.district is None or location.district.code != district:
            prefixed = _locate(city.names[district] + geo_text)
            if prefixed is not None and prefixed.district is not None and prefixed.district.code == district:
                location = prefixed
            else:
                location = _locate(city.names[district])
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
