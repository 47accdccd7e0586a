import numpy as np
import pytest
import shapely

from cityops.core.errors import InvalidInput, Unprocessable
from cityops.geo import index
from cityops.geo.coords import from_wgs84
from cityops.geo.models import Region
from cityops.geo.selectors import locate_point, locate_points

pytestmark = pytest.mark.django_db

WUCHANG = (114.3165, 30.5434)  # near 中南路/洪山广场
HANYANG = (114.27, 30.55)  # near 墨水湖
BEIJING = (116.4, 39.9)


def _shape(code):
    return shapely.from_geojson(__import__("json").dumps(Region.objects.get(code=code).geometry))


def test_wuchang_point(wuhan):
    loc = locate_point(lon=WUCHANG[0], lat=WUCHANG[1])
    assert loc.city.code == "420100" and loc.city.name == "武汉市"
    assert loc.district.code == "420106" and loc.district.name == "武昌区"
    # the answer agrees with the real district polygon and with every generated level below it
    for ref in (loc.district, loc.street, loc.community, loc.grid):
        assert _shape(ref.code).covers(shapely.Point(*WUCHANG)), ref
    assert loc.grid.code.startswith(loc.community.code) and len(loc.grid.code) == 14
    assert loc.community.code.startswith(loc.street.code) and loc.street.code.startswith("420106")


def test_hanyang_point(wuhan):
    loc = locate_point(lon=str(HANYANG[0]), lat=str(HANYANG[1]))
    assert loc.district.code == "420105" and loc.district.name == "汉阳区"
    assert loc.as_dict()["grid"]["code"].startswith("420105")


def test_outside_city(wuhan):
    with pytest.raises(Unprocessable) as exc:
        locate_point(lon=BEIJING[0], lat=BEIJING[1])
    assert exc.value.code == "outside_city" and exc.value.status == 422


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_converted_input_finds_same_grid(wuhan, crs):
    lon, lat = from_wgs84(*WUCHANG, crs)
    loc = locate_point(lon=lon, lat=lat, crs=crs)
    assert loc.grid == locate_point(lon=WUCHANG[0], lat=WUCHANG[1]).grid
    assert abs(loc.lon - WUCHANG[0]) < 1e-5 and abs(loc.lat - WUCHANG[1]) < 1e-5


def test_bad_input(wuhan):
    with pytest.raises(InvalidInput) as exc:
        locate_point(lon="114,3", lat="30.5")
    assert exc.value.code == "invalid_coordinates"
    with pytest.raises(InvalidInput) as exc:
        locate_point(lon=114.3, lat=30.5, crs="mercator")
    assert exc.value.code == "unknown_crs"


def test_batch_matches_single(wuhan):
    rng = np.random.default_rng(1)
    lons = rng.uniform(113.6, 115.1, 400)
    lats = rng.uniform(29.9, 31.4, 400)
    batch = locate_points(lons=lons, lats=lats)
    inside = 0
    for lon, lat, loc in zip(lons, lats, batch, strict=True):
        try:
            single = locate_point(lon=lon, lat=lat)
        except Unprocessable:
            assert loc is None
            continue
        inside += 1
        assert loc == single
    assert inside > 100


def test_every_grid_centroid_locates_to_its_grid(wuhan):
    """The demo grids tile their communities without overlaps: a grid's inside point finds that grid."""
    rows = list(Region.objects.filter(level="grid").values_list("code", "centroid_lon", "centroid_lat")[:3000])
    codes = index.get_index().codes_at([r[1] for r in rows], [r[2] for r in rows])
    wrong = [(r[0], c) for r, c in zip(rows, codes, strict=True) if c != r[0]]
    assert len(wrong) <= len(rows) * 0.002, wrong[:10]


def test_lookup_makes_no_queries(wuhan, django_assert_num_queries):
    locate_point(lon=WUCHANG[0], lat=WUCHANG[1])  # builds or checks the index
    with django_assert_num_queries(0):
        for _ in range(50):
            locate_point(lon=HANYANG[0], lat=HANYANG[1])


def test_index_notices_changes_from_other_processes(wuhan, settings):
    settings.CITYOPS_GEO_INDEX_CHECK_SECONDS = 0
    before = index.get_index()
    # Another process changes a region and bumps the token; this process must rebuild on its next check.
    Region.objects.filter(code="420106").update(name="武昌区（改）")
    from cityops.geo.models import RegionIndexVersion

    RegionIndexVersion.bump()
    after = index.get_index()
    assert after is not before
    assert locate_point(lon=WUCHANG[0], lat=WUCHANG[1]).district.name == "武昌区（改）"


def test_index_check_is_throttled(wuhan, settings, django_assert_num_queries):
    settings.CITYOPS_GEO_INDEX_CHECK_SECONDS = 60
    index.get_index()
    with django_assert_num_queries(0):
        index.get_index()
