"""What a lookup answers: the point (WGS-84) and the region at every level that contains it."""

from dataclasses import dataclass
from typing import Any, NamedTuple

LEVELS = ("city", "district", "street", "community", "grid")


@dataclass(frozen=True, slots=True)
class RegionRef:
    code: str
    name: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name}


class Location(NamedTuple):
    """Immutable; a NamedTuple because the point index builds one per lookup and a frozen dataclass cost a
    third of a single lookup (bench/locate.py)."""

    lon: float
    lat: float
    city: RegionRef | None = None
    district: RegionRef | None = None
    street: RegionRef | None = None
    community: RegionRef | None = None
    grid: RegionRef | None = None
    # How the point was found: "point" (coordinates given) or "address" (centroid of the matched region).
    method: str = "point"

    @property
    def deepest(self) -> RegionRef | None:
        for level in reversed(LEVELS):
            ref = getattr(self, level)
            if ref is not None:
                return ref
        return None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for level in LEVELS:
            ref = getattr(self, level)
            out[level] = ref.as_dict() if ref is not None else None
        out["lon"] = self.lon
        out["lat"] = self.lat
        return out
