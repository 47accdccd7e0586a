"""Cut a city's rivers and lakes out of GSHHG (the Global Self-consistent Hierarchical High-resolution Geography,
LGPL-3.0-or-later) as the small GeoJSON the base map draws (CITYOPS_WATER_GEOJSON). Not used at run time.

GSHHG comes as Debian's package gmt-gshhg-full (netCDF-4 files in GMT's "binned" layout: 2° bins, each holding
pieces of shorelines and rivers as 16-bit offsets from the bin's south-west corner). Lakes are GSHHS polygons of
level 2, their pieces joined again across bins; rivers are WDB-II lines, with their class as `wdb_level`
(0 double-lined, 1 permanent major, 2 additional major, 3 additional, 4 minor …). Needs h5py and shapely:

    apt-get download gmt-gshhg-full && dpkg -x gmt-gshhg-full_*.deb gshhg
    pip install h5py shapely
    python extract_gshhg.py gshhg/usr/share/gmt-gshhg 113.6 29.9 115.15 31.4 > wuhan.geojson
"""

import collections
import json
import sys
from pathlib import Path

import h5py
import numpy as np
import shapely
from shapely.ops import linemerge, polygonize

LAKE = 2
MARGIN_DEG = 2.0  # lakes are joined from the bins around the box too


def _bins(f, box):
    size = f["Bin_size_in_minutes"][0] / 60.0
    nx = f["N_bins_in_360_longitude_range"][0]
    first = f["Id_of_first_segment_in_a_bin"][:]
    count = f["N_segments_in_a_bin"][:]
    west, south, east, north = box
    for b in range(len(first)):
        lon0 = (b % nx) * size
        lat0 = 90 - (b // nx + 1) * size
        if lon0 + size < west or lon0 > east or lat0 + size < south or lat0 > north:
            continue
        yield lon0, lat0, size, range(first[b], first[b] + count[b])


def _points(f, start, n, lon0, lat0, size):
    dx = f["Relative_longitude_from_SW_corner_of_bin"][start : start + n].view(np.uint16)
    dy = f["Relative_latitude_from_SW_corner_of_bin"][start : start + n].view(np.uint16)
    return np.column_stack([lon0 + dx * size / 65535.0, lat0 + dy * size / 65535.0])


def rivers(directory: Path, box):
    with h5py.File(directory / "binned_river_f.nc", "r") as f:
        npts = f["N_points_for_a_segment"][:]
        level = f["Hierarchial_level_of_a_segment"][:]
        first_point = f["Id_of_first_point_in_a_segment"][:]
        for lon0, lat0, size, segments in _bins(f, box):
            for s in segments:
                if npts[s] >= 2:
                    yield int(level[s]), shapely.LineString(_points(f, first_point[s], npts[s], lon0, lat0, size))


def lakes(directory: Path, box):
    grown = (box[0] - MARGIN_DEG, box[1] - MARGIN_DEG, box[2] + MARGIN_DEG, box[3] + MARGIN_DEG)
    pieces = collections.defaultdict(list)
    with h5py.File(directory / "binned_GSHHS_f.nc", "r") as f:
        info = f["Embedded_npts_levels_exit_entry_for_a_segment"][:]
        first_point = f["Id_of_first_point_in_a_segment"][:]
        polygon = f["Id_of_GSHHS_ID"][:]
        for lon0, lat0, size, segments in _bins(f, grown):
            for s in segments:
                n, lev = info[s] >> 9, (info[s] >> 6) & 7
                if lev == LAKE and n >= 2:
                    line = shapely.LineString(_points(f, first_point[s], n, lon0, lat0, size))
                    pieces[int(polygon[s])].append(shapely.set_precision(line, 1e-4))
    for gid, lines in pieces.items():
        rings = list(polygonize(lines))
        if rings:  # a lake whose pieces do not close lies mostly outside the margin
            yield gid, shapely.union_all(rings)


def main(directory: str, west: str, south: str, east: str, north: str) -> None:
    box = tuple(float(v) for v in (west, south, east, north))
    clip = shapely.box(*box)
    features = []
    for gid, geom in lakes(Path(directory), box):
        if geom.intersects(clip):
            geom = shapely.set_precision(geom.intersection(clip), 1e-5)
            features.append({"type": "Feature", "properties": {"kind": "lake", "gshhg_id": gid},
                             "geometry": json.loads(shapely.to_geojson(geom))})
    by_level = collections.defaultdict(list)
    for level, line in rivers(Path(directory), box):
        line = line.intersection(clip)
        if not line.is_empty:
            by_level[level].append(line)
    for level, lines in sorted(by_level.items()):
        merged = shapely.union_all(lines)
        if merged.geom_type == "MultiLineString":
            merged = linemerge(merged)
        features.append({"type": "Feature", "properties": {"kind": "river", "wdb_level": level},
                         "geometry": json.loads(shapely.to_geojson(shapely.set_precision(merged, 1e-5)))})
    json.dump({"type": "FeatureCollection", "features": features}, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main(*sys.argv[1:6])
