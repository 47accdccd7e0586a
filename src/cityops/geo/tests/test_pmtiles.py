"""A city's own base map as one PMTiles file (CITYOPS_PMTILES) that cityops serves at /geo/tiles/base/z/x/y.
The files are written here with the pmtiles package's writer: a raster one (PNG) and a gzip'd vector one."""

import gzip
import io
import json

import pytest
from django.test import Client
from PIL import Image
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer

from cityops.geo.templatetags.basemap import basemap_config

pytestmark = pytest.mark.django_db

# Wuhan at zoom 10 and 11.
TILES = [(10, 837, 420), (11, 1674, 840), (11, 1675, 841)]


def png(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(out, "PNG")
    return out.getvalue()


def write_pmtiles(path, tiles: dict, tile_type=TileType.PNG, compression=Compression.NONE):
    with path.open("wb") as f:
        writer = Writer(f)
        for (z, x, y), data in sorted(tiles.items(), key=lambda item: zxy_to_tileid(*item[0])):
            writer.write_tile(zxy_to_tileid(z, x, y), data)
        zooms = [z for z, _x, _y in tiles]
        writer.finalize(
            {
                "tile_type": tile_type, "tile_compression": compression,
                "min_zoom": min(zooms), "max_zoom": max(zooms),
                "min_lon_e7": int(113.68e7), "min_lat_e7": int(29.97e7),
                "max_lon_e7": int(115.08e7), "max_lat_e7": int(31.37e7),
                "center_zoom": 10, "center_lon_e7": int(114.3e7), "center_lat_e7": int(30.59e7),
            },
            {"attribution": "test"},
        )
    return path


@pytest.fixture
def raster(tmp_path, settings):
    tiles = {t: png((i * 60, 120, 200)) for i, t in enumerate(TILES)}
    settings.CITYOPS_PMTILES = str(write_pmtiles(tmp_path / "city.pmtiles", tiles))
    return tiles


def test_a_raster_tile_is_served_from_the_file(raster):
    client = Client()  # public, like the portal's maps
    for (z, x, y), data in raster.items():
        response = client.get(f"/geo/tiles/base/{z}/{x}/{y}")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png" and response.content == data
        assert "Content-Encoding" not in response
    etag = response["ETag"]
    assert client.get(f"/geo/tiles/base/{z}/{x}/{y}", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_tile_not_in_the_file_is_404(raster):
    client = Client()
    assert client.get("/geo/tiles/base/11/0/0").status_code == 404
    assert client.get("/geo/tiles/base/3/1/1").status_code == 404  # below the file's zooms
    assert client.get("/geo/tiles/base/11/5000/1").status_code == 404  # outside the world


def test_the_maps_are_told_the_file_is_raster_with_its_zooms(raster):
    base = basemap_config()["base"]
    assert base["kind"] == "raster" and (base["min_zoom"], base["max_zoom"]) == (10, 11)
    assert base["url"] == "/geo/tiles/base/{z}/{x}/{y}"
    assert base["bounds"] == [[29.97, 113.68], [31.37, 115.08]]


def test_a_changed_file_is_read_again(raster, tmp_path, settings):
    client = Client()
    z, x, y = TILES[0]
    first = client.get(f"/geo/tiles/base/{z}/{x}/{y}")
    new = png((1, 2, 3))
    path = tmp_path / "city.pmtiles"
    write_pmtiles(path, {(z, x, y): new, TILES[1]: new})
    second = client.get(f"/geo/tiles/base/{z}/{x}/{y}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200 and second.content == new


def test_gzip_vector_tiles_keep_their_encoding_or_are_unpacked(tmp_path, settings):
    mvt = b"\x1a\x00fake-mvt-bytes"
    tiles = {t: gzip.compress(mvt) for t in TILES}
    settings.CITYOPS_PMTILES = str(write_pmtiles(tmp_path / "v.pmtiles", tiles, TileType.MVT, Compression.GZIP))
    z, x, y = TILES[0]
    packed = Client().get(f"/geo/tiles/base/{z}/{x}/{y}", HTTP_ACCEPT_ENCODING="gzip, br")
    assert packed["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert packed["Content-Encoding"] == "gzip" and gzip.decompress(packed.content) == mvt
    plain = Client().get(f"/geo/tiles/base/{z}/{x}/{y}", HTTP_ACCEPT_ENCODING="identity")
    assert "Content-Encoding" not in plain and plain.content == mvt
    assert basemap_config()["base"]["kind"] == "vector"


def test_without_a_file_there_is_no_base_layer(settings):
    settings.CITYOPS_PMTILES = ""
    assert Client().get("/geo/tiles/base/10/837/420").status_code == 404
    assert basemap_config()["base"] is None


def test_an_unreadable_file_is_logged_and_the_maps_go_on(tmp_path, settings, caplog):
    bad = tmp_path / "broken.pmtiles"
    bad.write_bytes(b"not a pmtiles archive at all" * 10)
    settings.CITYOPS_PMTILES = str(bad)
    assert Client().get("/geo/tiles/base/10/837/420").status_code == 404
    assert basemap_config()["base"] is None
    assert "cannot be read" in caplog.text
    settings.CITYOPS_PMTILES = str(tmp_path / "missing.pmtiles")
    assert basemap_config()["base"] is None
    json.dumps(basemap_config())  # the page's config is still whole
