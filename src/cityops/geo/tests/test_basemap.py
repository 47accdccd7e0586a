"""The local base map's outline tiles (/geo/tiles/outlines/z/x/y.json, geo/basemap.py): the right levels per zoom,
names only where they fit, shapes simplified to the zoom, the water, and a per-process cache with an ETag that
changes when a region does."""

import json

import numpy as np
import pytest
import shapely
from django.test import Client

from cityops.geo import basemap, index
from cityops.geo.models import Region

pytestmark = pytest.mark.django_db

# 中南路街道 (武昌区) in the demo city: a point well inside the city.
LON, LAT = 114.335, 30.545


def tile_at(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    x, y = basemap.lonlat_to_px(lon, lat, z)
    return z, int(x // basemap.TILE_PX), int(y // basemap.TILE_PX)


@pytest.fixture
def anonymous():
    return Client()  # the portal's maps draw the tiles for residents who never sign in


def get_tile(client, z, x, y, **headers):
    return client.get(f"/geo/tiles/outlines/{z}/{x}/{y}.json", **headers)


def test_levels_follow_the_zoom(wuhan, anonymous):
    by_zoom = {}
    for z in (9, 12, 14, 17):
        response = get_tile(anonymous, *tile_at(LON, LAT, z))
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
        by_zoom[z] = json.loads(response.content)
    drawn = {z: {level for level, lines in tile["lines"].items() if lines} for z, tile in by_zoom.items()}
    assert drawn[9] == {"district"}
    assert drawn[12] == {"district", "street"}
    assert {"street", "community"} <= drawn[14] and "grid" not in drawn[14]
    assert "grid" in drawn[17]  # the grid only at the finest zooms
    named = {z: {label["level"] for label in tile["labels"]} for z, tile in by_zoom.items()}
    assert named[9] == {"district"} and "street" in named[12] and "community" in named[14]


def test_the_regions_in_a_tile_are_those_under_it(wuhan, anonymous):
    """Every name in a tile belongs to a region whose label point lies in the tile, at the pixel where it lies."""
    z, x, y = tile_at(LON, LAT, 13)
    tile = json.loads(get_tile(anonymous, z, x, y).content)
    assert tile["labels"]
    box = basemap.tile_box(z, x, y)
    inside = {basemap.short_name(r.name): r for r in Region.objects.filter(level__in=["street", "community"])
              if box.contains(shapely.Point(r.centroid_lon, r.centroid_lat))}
    for label in tile["labels"]:
        region = inside[label["name"]]
        px, py = basemap.lonlat_to_px(region.centroid_lon, region.centroid_lat, z)
        assert abs(float(px) - x * 256 - label["x"]) < 0.11 and abs(float(py) - y * 256 - label["y"]) < 0.11
    # Lines stay within the tile and its small buffer.
    coords = np.array([c for lines in tile["lines"].values() for line in lines for c in line])
    assert coords.min() >= -basemap.BUFFER_PX - 0.05 and coords.max() <= 256 + basemap.BUFFER_PX + 0.05


def test_a_name_is_shown_only_where_it_fits(wuhan):
    """A district is named at city zoom; its streets are not (they are a few pixels wide there)."""
    z, x, y = tile_at(LON, LAT, 8)
    names = {label["name"] for label in basemap.build_tile(z, x, y)["labels"]}
    assert "武昌区" in names or "洪山区" in names
    assert not any(name.endswith("街道") for name in names)


def test_shapes_are_simplified_per_zoom(wuhan):
    """Street outlines have fewer points at the zoom they are first drawn at than at the finest, never more than
    their stored shapes, and stay within half a pixel of them."""
    z_far, z_near = basemap.DRAWN_FROM["street"], basemap.SIMPLIFY_MAX_ZOOM
    shapes = basemap._shapes_for(index.get_index())
    far, near = shapes.outline("street", z_far), shapes.outline("street", z_near)
    stored = shapely.boundary(index.get_index().trees["street"].geoms)
    n_far, n_near, n_stored = (int(shapely.get_num_coordinates(g).sum()) for g in (far, near, stored))
    assert n_far < n_near <= n_stored
    worst = float(shapely.hausdorff_distance(far, stored).max())
    assert worst <= basemap.tolerance_deg(z_far) * 1.01


def test_the_water_is_drawn(wuhan):
    """东湖 and the Yangtze (GSHHG, geo/data/water) are in the tile over 武昌 at district zoom."""
    tile = basemap.build_tile(*tile_at(114.40, 30.56, 11))
    assert tile["water"]["areas"] and tile["water"]["rivers"]
    # Too coarse for street zoom (its 东湖 reaches into Wuchang): not drawn there.
    assert "water" not in basemap.build_tile(*tile_at(114.40, 30.56, basemap.WATER_MAX_ZOOM + 1))


def test_no_water_without_a_file(wuhan, settings):
    settings.CITYOPS_WATER_GEOJSON = ""
    assert "water" not in basemap.build_tile(*tile_at(114.40, 30.56, 11))


def test_unchanged_tiles_answer_304_and_an_edit_changes_the_etag(wuhan, anonymous):
    z, x, y = tile_at(LON, LAT, 12)
    first = get_tile(anonymous, z, x, y)
    etag = first["ETag"]
    assert etag and "max-age" in first["Cache-Control"]
    again = get_tile(anonymous, z, x, y, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""

    street = next(label["name"] for label in json.loads(first.content)["labels"] if label["level"] == "street")
    region = next(r for r in Region.objects.filter(level="street") if basemap.short_name(r.name) == street)
    region.name = "中南路测试街道"
    region.save(update_fields=["name"])
    index.bump_version()
    changed = get_tile(anonymous, z, x, y, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert "中南路测试街道" in {label["name"] for label in json.loads(changed.content)["labels"]}


def test_a_tile_is_built_once_per_process(wuhan, monkeypatch):
    z, x, y = tile_at(LON, LAT, 14)
    basemap._tiles.clear()
    built = []
    real = basemap.build_tile
    monkeypatch.setattr(basemap, "build_tile", lambda *a: built.append(a) or real(*a))
    body = basemap.tile_json(z, x, y)
    assert basemap.tile_json(z, x, y) == body
    assert built == [(z, x, y)]


@pytest.mark.parametrize("path", ["/geo/tiles/outlines/3/8/0.json", "/geo/tiles/outlines/25/0/0.json"])
def test_a_tile_outside_the_world_is_404(wuhan, anonymous, path):
    assert anonymous.get(path).status_code == 404


def test_a_tile_outside_the_city_is_empty(wuhan, anonymous):
    tile = json.loads(get_tile(anonymous, *tile_at(0.0, 0.0, 10)).content)
    assert tile == {"lines": {}, "labels": []}


def test_a_city_tile_server_is_drawn_and_allowed_by_the_csp(wuhan, settings):
    """CITYOPS_TILE_URL: the maps get it and the Content-Security-Policy lets its images in, every {s} subdomain."""
    settings.CITYOPS_TILE_URL = "https://{s}.tiles.city.example/{z}/{x}/{y}.png"
    response = Client().get("/portal/map/")
    config = json.loads(response.content.decode().split('id="basemap-config" type="application/json">')[1]
                        .split("</script>")[0])
    assert config["tile_url"] == settings.CITYOPS_TILE_URL
    assert config["outlines"] == "/geo/tiles/outlines/{z}/{x}/{y}.json"
    assert "img-src 'self' data: blob: https://*.tiles.city.example;" in response["Content-Security-Policy"]

