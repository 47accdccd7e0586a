"""A city's own base map as one PMTiles file (CITYOPS_PMTILES) that cityops serves itself at /geo/tiles/base/z/x/y:
no tile server and no internet. The `pmtiles` package reads the file's directory and tiles through a memory map;
the file is opened once per process and again when it changes on disk.

Raster archives (PNG, JPEG, WebP, AVIF) are drawn by every map under the outlines; a vector archive (MVT) is served
as well, for other map clients (QGIS, MapLibre), but Leaflet draws no vector tiles (docs/deployment.md)."""

from __future__ import annotations

import gzip
import mmap
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

# The header's codes (PMTiles v3 spec; pmtiles.tile.TileType and Compression).
MVT, PNG, JPEG, WEBP, AVIF = 1, 2, 3, 4, 5
CONTENT_TYPES = {
    MVT: "application/vnd.mapbox-vector-tile",
    PNG: "image/png",
    JPEG: "image/jpeg",
    WEBP: "image/webp",
    AVIF: "image/avif",
}
RASTER = {PNG, JPEG, WEBP, AVIF}
ENCODINGS = {2: "gzip", 3: "br", 4: "zstd"}


@dataclass(frozen=True)
class Tile:
    data: bytes
    content_type: str
    encoding: str | None  # Content-Encoding of data, None when plain


class PMTilesArchive:
    def __init__(self, path: Path) -> None:
        from pmtiles.reader import Reader  # only a city with a PMTiles file needs it

        self.path = path
        stat = path.stat()
        self.stamp = (stat.st_mtime_ns, stat.st_size)
        with path.open("rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self.reader = Reader(lambda offset, length: self._map[offset : offset + length])
        try:
            self.header = self.reader.header()
        except Exception as exc:  # pmtiles raises its own Exception subclasses for a file that is no archive
            self._map.close()
            raise ValueError(f"{path} is not a PMTiles v3 archive ({type(exc).__name__})") from exc
        self.tile_type = self.header["tile_type"].value
        self.compression = self.header["tile_compression"].value

    @property
    def raster(self) -> bool:
        return self.tile_type in RASTER

    @property
    def etag_part(self) -> str:
        return f"{self.stamp[0]:x}-{self.stamp[1]:x}"

    def describe(self) -> dict:
        """What a map needs to know: raster or vector, zoom range (Leaflet enlarges tiles past max_zoom), bounds."""
        h = self.header
        return {
            "kind": "raster" if self.raster else "vector",
            "min_zoom": h["min_zoom"],
            "max_zoom": h["max_zoom"],
            "bounds": [[h["min_lat_e7"] / 1e7, h["min_lon_e7"] / 1e7], [h["max_lat_e7"] / 1e7, h["max_lon_e7"] / 1e7]],
        }

    def tile(self, z: int, x: int, y: int, accept_encoding: str = "") -> Tile | None:
        if not (self.header["min_zoom"] <= z <= self.header["max_zoom"]) or not (0 <= x < 2**z and 0 <= y < 2**z):
            return None
        data = self.reader.get(z, x, y)
        if not data:
            return None
        encoding = ENCODINGS.get(self.compression)
        if encoding == "gzip" and "gzip" not in accept_encoding:
            data, encoding = gzip.decompress(data), None
        return Tile(bytes(data), CONTENT_TYPES.get(self.tile_type, "application/octet-stream"), encoding)


_lock = threading.Lock()
_archive: PMTilesArchive | None = None


def archive() -> PMTilesArchive | None:
    """The configured archive, or None when CITYOPS_PMTILES is not set. A missing or unreadable file raises OSError
    (or ValueError for a file that is no PMTiles archive): the callers log it and draw the map without it."""
    global _archive
    value = getattr(settings, "CITYOPS_PMTILES", "")
    if not value:
        return None
    path = Path(value)
    stat = path.stat()
    current = _archive
    if current is None or current.path != path or current.stamp != (stat.st_mtime_ns, stat.st_size):
        with _lock:
            current = _archive
            if current is None or current.path != path or current.stamp != (stat.st_mtime_ns, stat.st_size):
                current = _archive = PMTilesArchive(path)
    return current
