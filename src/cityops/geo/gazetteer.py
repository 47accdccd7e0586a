"""What the address parser knows of one city besides its regions (data/README.md): landmarks and roads
(data/gazetteer.csv), misspellings heard on the line (data/typos.csv), and the forms people name a district by
(read from the city's `district` regions, so they follow the Region table).
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
GAZETTEER_PATH = DATA / "gazetteer.csv"
TYPOS_PATH = DATA / "typos.csv"


@cache
def typos() -> tuple[tuple[str, str], ...]:
    """(wrong, right) pairs of data/typos.csv, in the file's order (read once)."""
    with TYPOS_PATH.open(encoding="utf-8") as f:
        return tuple((row["wrong"], row["right"]) for row in csv.DictReader(f))


def fix_typos(text: str) -> str:
    """NFKC, no spaces, known misspellings replaced (data/typos.csv, in the file's order)."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    text = "".join(text.split())
    for wrong, right in typos():
        text = text.replace(wrong, right)
    return text


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


def named_district(text: str) -> str | None:
    """The district the text names itself, or None (Districts.named over the current regions)."""
    return districts().named(text)


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


@cache
def gazetteer() -> Gazetteer:
    return Gazetteer(read_gazetteer())
