"""Address text → region, from the city's own gazetteer (district/street/community names) plus cpca.

cpca knows the national district list ("武昌区中南路街道…" → 420106) but not the streets and communities of one
city; the names of our regions fill that gap. Names are matched in every form people write them
("水果湖街办事处", "水果湖街道", "水果湖").
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict

import ahocorasick

from cityops.geo.names import name_aliases

log = logging.getLogger(__name__)

DEPTH = {"city": 0, "district": 1, "street": 2, "community": 3, "grid": 4}
# Grids carry generated names ("…网格01"), matching them in free text is noise.
MATCHED_LEVELS = ("district", "street", "community")


class NameMatcher:
    def __init__(self, nodes) -> None:
        self.parent: dict[str, str | None] = {}
        self.level: dict[str, str] = {}
        by_alias: dict[str, dict[str, bool]] = defaultdict(dict)
        for node in nodes:
            self.parent[node.code] = node.parent_code
            self.level[node.code] = node.level
            if node.level in MATCHED_LEVELS:
                for alias, strong in name_aliases(node.name, node.level).items():
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

    def match(self, text: str, district_code: str | None = None) -> str | None:
        """Code of the deepest region the text names, consistent with the other names it contains and with
        the district cpca found; None when nothing matches."""
        if self.empty:
            return None
        # Keep only the longest match at each end position ("东亭社区" wins over "亭社区" or "社区").
        matched: dict[str, int] = {}
        strong: set[str] = set()
        for _end, (alias, codes) in self.automaton.iter_long(text):
            for code, is_strong in codes:
                matched[code] = max(matched.get(code, 0), len(alias))
                if is_strong:
                    strong.add(code)
        if district_code and district_code in self.level:
            matched.setdefault(district_code, 0)
            strong.add(district_code)
        if not matched:
            return None
        best: list[tuple[tuple, str]] = []
        for code, length in matched.items():
            ancestors = self.ancestors(code)
            known_district = district_code and district_code in self.level and code != district_code
            if known_district and district_code not in ancestors:
                continue  # contradicts the district cpca found
            support = sum(1 for a in ancestors if a in matched)
            if code not in strong and not support:
                continue  # a bare stem ("火车站") alone is more likely a landmark than this community
            best.append(((support, DEPTH.get(self.level[code], 0), length), code))
        if not best:
            return district_code
        best.sort(reverse=True)
        top_score = best[0][0]
        tied = [code for score, code in best if score == top_score]
        if len(tied) == 1:
            return tied[0]
        # Same name in several places ("新村社区"): answer their deepest common ancestor.
        common = set([tied[0], *self.ancestors(tied[0])])
        for code in tied[1:]:
            common &= {code, *self.ancestors(code)}
        deepest = max(common, key=lambda c: DEPTH.get(self.level[c], 0)) if common else None
        # Only "somewhere in the city" is no answer to an address.
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
