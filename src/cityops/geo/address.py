"""Address text → region and point: the one address parser of the platform (hotline calls, the staff intake
page's address search, reports without coordinates from the portal, Open311 and the API all come here through
geo.selectors).

People name a place the way they say it: a street office in its short form and no district ("在水果湖街这边的
公园旁边", "大智街附近那个路口"), a community ("吉庆社区门口"), a landmark or road ("汉口火车站附近", "光谷广场",
"解放大道"), a mistyped district ("武倡区", "乔口"). What the parser knows of one city is data, not code:

- the names of the Region table's districts, streets and communities, in every form people say them
  (names.name_aliases: full name, XX街道/XX街办/XX街, XX社区, XX村, and the bare stem, which counts only when an
  ancestor is named too). The name index is built once per process and rebuilt when regions change
  (`cityops geo import`, load_demo: the geo index's version token), so another city works after its import;
- data/gazetteer.csv: landmarks (a point) and roads (the districts they run through);
- data/typos.csv: misspellings heard on the line;
- cpca for the national district list.

1. fix known typos;
2. find gazetteer names (longest first), except inside a region name ("黄鹤楼街" is the street, not the
   tower); landmarks, and roads that contain another district's name ("黎黄陂路" is in 江岸区, not 黄陂区), are
   hidden from the name matcher;
3. rank the regions the text names: a region whose ancestors are named too comes first, then one in a district
   that a landmark or road of the text lies in, then the deeper, then the longer name. A name that exists in two
   districts gives both as candidates, in that order; when nothing tells them apart, the answer is their deepest
   common ancestor below the city (or nothing) and both stay candidates for a person to choose. If the text names
   no district itself and a landmark/road of a single district was found, that district counts as named (so
   "中南路附近" still finds 中南路街道); a landmark alone is answered by the regions at its point;
4. the point is the landmark's own point when it lies in the region found, else the region's centroid.
Colloquial tails (这边、附近、那个路口、旁边、对面、门口 …) need no rule: names are found anywhere in the text.
"""

from __future__ import annotations

import logging
import math
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

import ahocorasick

from cityops.geo import index
from cityops.geo.gazetteer import Place, districts, fix_typos, gazetteer
from cityops.geo.location import Location
from cityops.geo.lru import LruCache
from cityops.geo.names import name_aliases

log = logging.getLogger(__name__)

DEPTH = {"city": 0, "district": 1, "street": 2, "community": 3, "grid": 4}
# Grids carry generated names ("…网格01"), matching them in free text is noise.
MATCHED_LEVELS = ("district", "street", "community")
MAX_CANDIDATES = 5


class NameMatcher:
    """The district, street and community names of the Region table in every spoken form, in one Aho-Corasick
    automaton (built with the geo index, see index.RegionIndex.names)."""

    def __init__(self, nodes) -> None:
        self.parent: dict[str, str | None] = {}
        self.level: dict[str, str] = {}
        by_alias: dict[str, dict[str, bool]] = defaultdict(dict)
        for node in nodes:
            self.parent[node.code] = node.parent_code
            self.level[node.code] = node.level
            if node.level in MATCHED_LEVELS:
                # The text is NFKC-normalised by fix_typos; so are the names ("新建大队村委会（走）").
                for alias, strong in name_aliases(unicodedata.normalize("NFKC", node.name), node.level).items():
                    codes = by_alias[alias]
                    codes[node.code] = codes.get(node.code, False) or strong
        self.automaton = ahocorasick.Automaton()
        for alias, codes in by_alias.items():
            self.automaton.add_word(alias, (alias, tuple(codes.items())))
        if by_alias:
            self.automaton.make_automaton()
        self.empty = not by_alias

    def ancestors(self, code: str) -> list[str]:
        out = []
        parent = self.parent.get(code)
        while parent:
            out.append(parent)
            parent = self.parent.get(parent)
        return out

    def district_of(self, code: str) -> str | None:
        for c in (code, *self.ancestors(code)):
            if self.level.get(c) == "district":
                return c
        return None

    def ranked(self, text: str, *, district_code: str | None = None, implied: str | None = None,
               prefer: frozenset[str] = frozenset()) -> list[tuple[tuple, str]]:
        """(score, code) of every region the text names, best first; a region that is an ancestor of another
        one found is left out (it adds nothing).

        `district_code` is a district cpca found in the text: regions outside it are dropped. `implied` is a
        district the text points to without naming it (a landmark's): a bare stem in it may count, as if the
        district were named. Score = (ancestors named elsewhere in the text, in a `prefer`red district, named
        by a strong form, depth, length of the name matched)."""
        if self.empty:
            return []
        # Keep only the longest match at each end position ("东亭社区" wins over "亭社区" or "社区").
        matched: dict[str, int] = {}
        ends: dict[str, set[int]] = defaultdict(set)
        strong: set[str] = set()
        for end, (alias, codes) in self.automaton.iter_long(text):
            for code, is_strong in codes:
                matched[code] = max(matched.get(code, 0), len(alias))
                ends[code].add(end)
                if is_strong:
                    strong.add(code)
        known_district = district_code if district_code in self.level else None
        if known_district:
            matched.setdefault(known_district, 0)
            strong.add(known_district)
            ends[known_district].add(-1)  # found by cpca: supports whatever it contains
        implied = implied if implied in self.level else None
        found: list[tuple[tuple, str]] = []
        for code, length in matched.items():
            depth = DEPTH.get(self.level[code], 0)
            if depth < DEPTH["district"]:
                continue  # "somewhere in the city" is no answer to an address
            ancestors = self.ancestors(code)
            if known_district and code != known_district and known_district not in ancestors:
                continue  # contradicts the district cpca found
            # An ancestor supports only when named at another place ("李集街" is the street, not support for
            # the village "李集街村" that shares the same three characters).
            support = sum(1 for a in ancestors if ends.get(a, set()) - ends[code] and self.level[a] != "city")
            if code not in strong and not support and implied not in ancestors:
                continue  # a bare stem ("火车站") alone is more likely a landmark than this community
            preferred = int(self.district_of(code) in prefer)
            found.append(((support, preferred, int(code in strong), depth, length), code))
        covered = {a for _score, code in found for a in self.ancestors(code)}
        found = [(score, code) for score, code in found if code not in covered]
        found.sort(key=lambda sc: (tuple(-s for s in sc[0]), sc[1]))
        return found

    def strong_spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of every name in the text matched by a strong form."""
        if self.empty:
            return []
        return [(end + 1 - len(alias), end + 1) for end, (alias, codes) in self.automaton.iter_long(text)
                if any(strong for _code, strong in codes)]

    def common_ancestor(self, codes: list[str]) -> str | None:
        """The deepest region containing all the codes, if it is a district or deeper."""
        common = {codes[0], *self.ancestors(codes[0])}
        for code in codes[1:]:
            common &= {code, *self.ancestors(code)}
        deepest = max(common, key=lambda c: DEPTH.get(self.level[c], 0)) if common else None
        return deepest if deepest and DEPTH.get(self.level[deepest], 0) >= DEPTH["district"] else None


_cpca_failed = False


def cpca_district(text: str) -> str | None:
    """adcode of the district cpca finds in the text, or None (cpca missing, or nothing found)."""
    global _cpca_failed
    if _cpca_failed:
        return None
    try:
        import cpca  # imports pandas and loads its dictionary on first use (~1 s)
    except ImportError:  # pragma: no cover - cpca is a declared dependency
        _cpca_failed = True
        log.warning("cpca is not installed; address lookup uses region names only")
        return None
    frame = cpca.transform([text])
    adcode = frame.iloc[0].get("adcode")
    if adcode is None or (isinstance(adcode, float) and math.isnan(adcode)):
        return None
    return str(adcode)


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            chars[i] = "□"
    return "".join(chars)


def _levels(location: Location) -> dict:
    return {level: (ref.as_dict() if (ref := getattr(location, level)) is not None else None)
            for level in ("district", "street", "community")}


@dataclass(frozen=True)
class ParsedAddress:
    text: str  # the text after typo correction
    location: Location | None  # the region found, at its centroid (method "address")
    point: tuple[float, float] | None  # (lon, lat) WGS-84: the landmark's own point, or the region's centroid
    place: Place | None  # the landmark or road recognised
    method: str  # region | landmark | road | none
    candidates: tuple[Location, ...] = ()  # every region the text may mean, best first

    @property
    def ambiguous(self) -> bool:
        """Two or more regions fit and nothing in the text tells them apart."""
        return len(self.candidates) > 1 and (self.location is None or self.location != self.candidates[0])

    def region_dict(self) -> dict | None:
        loc = self.location
        if (loc is None or loc.district is None) and not self.candidates:
            return None
        out = _levels(loc) if loc is not None else {"district": None, "street": None, "community": None}
        out["method"] = self.method
        out["ambiguous"] = self.ambiguous
        if len(self.candidates) > 1:
            out["candidates"] = [_levels(c) for c in self.candidates]
        return out

    def point_dict(self) -> dict | None:
        if self.point is None:
            return None
        return {"lon": round(self.point[0], 6), "lat": round(self.point[1], 6)}

    def located(self) -> Location | None:
        """The Location a case at this address gets: at the landmark's point, with its grid, when the point is the
        landmark's (it lies in the region found), else the region at its centroid."""
        loc = self.location
        if loc is None or self.point is None or self.method != "landmark":
            return loc
        at_point = index.get_index().locate(*self.point)
        return loc if at_point is None else at_point._replace(method="address")


def _at(idx, code: str) -> Location:
    node = idx.nodes[code]
    return idx.location(code, node.centroid_lon, node.centroid_lat, method="address")


def _contains(location: Location, at_point: Location | None) -> bool:
    """Whether the point of `at_point` lies in the deepest region of `location`."""
    if at_point is None or location.deepest is None:
        return False
    return location.deepest in (at_point.district, at_point.street, at_point.community, at_point.grid)


def parse_address(text: str) -> ParsedAddress:
    """Region and point of a spoken address; every part may be None (nothing recognised)."""
    fixed = fix_typos(text)
    if not fixed:
        return ParsedAddress("", None, None, None, "none")
    idx = index.get_index()
    names = idx.names
    # A landmark or road that is (inside) a region's own name is that region ("黄鹤楼街" is the street, not the
    # tower; "汉正街" the street office too).
    spans = names.strong_spans(fixed)
    matches = [(s, e, p) for s, e, p in gazetteer().find(fixed)
               if not any(a <= s and e <= b for a, b in spans)]
    city = districts()
    own_district = city.named(_mask(fixed, [(s, e) for s, e, _p in matches]))
    # The name matcher does not see landmarks ("光谷" of "光谷广场" is not 光谷社区) nor names that would mislead
    # it ("黎黄陂路" → 黄陂区); it sees roads, which may share a street's name ("中南路" → 中南路街道).
    hidden = [(s, e) for s, e, p in matches if p.kind == "landmark"
              or ((d := city.named(fixed[s:e])) is not None and d not in p.districts)]
    geo_text = _mask(fixed, hidden)
    landmark = next((p for _s, _e, p in matches if p.kind == "landmark"), None)
    road = next((p for _s, _e, p in matches if p.kind == "road"), None)
    place = landmark or road
    implied = None
    if own_district is None and place is not None and len(place.districts) == 1 \
            and place.districts[0] in city.names:
        implied = place.districts[0]
    district_code = cpca_district(geo_text)
    if district_code is not None and district_code not in idx.nodes:
        district_code = None  # another city's district: only our own names can still match
    clues = frozenset(d for _s, _e, p in matches for d in p.districts)
    ranked = names.ranked(geo_text, district_code=district_code, implied=implied, prefer=clues)
    candidates = tuple(_at(idx, code) for _score, code in ranked[:MAX_CANDIDATES])

    at_landmark = idx.locate(landmark.lon, landmark.lat) if landmark is not None and landmark.lon is not None \
        else None
    if at_landmark is not None and (at_landmark.district is None
                                    or at_landmark.district.code not in landmark.districts):
        at_landmark = None  # a landmark of another city, or a point that missed its district
    if len(ranked) > 1 and ranked[0][0] == ranked[1][0]:
        common = names.common_ancestor([code for score, code in ranked if score == ranked[0][0]])
        location = _at(idx, common) if common else None
    elif candidates:
        location = candidates[0]
    elif at_landmark is not None:  # only a landmark: where it is
        location = at_landmark._replace(method="address")
        candidates = (location,)
    elif implied is not None:  # only a road of one district
        location = _at(idx, implied)
    else:
        location = None

    if at_landmark is not None and location is not None and _contains(location, at_landmark):
        point, method = (landmark.lon, landmark.lat), "landmark"
    elif location is not None:
        point, method = (location.lon, location.lat), "region"
        if place is not None and location.district is not None and location.district.code in place.districts \
                and (implied is not None or location.street is None):
            method = place.kind
    else:
        point, method = None, "none"
    return ParsedAddress(fixed, location, point, place, method, candidates)


_cache = LruCache(4096)  # recent answers, per geo index version (regions edited → answers recomputed)


def parse_address_cached(text: str) -> ParsedAddress:
    key = (index.get_index().token, text)
    hit = _cache.get(key)
    if hit is None:
        hit = parse_address(text)
        _cache.put(key, hit)
    return hit
