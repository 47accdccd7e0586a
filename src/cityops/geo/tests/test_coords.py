import math

import pytest

from cityops.core.errors import InvalidInput
from cityops.geo.coords import distance_m, from_wgs84, parse_lon_lat, to_wgs84

# A WGS-84 / GCJ-02 pair from the reference implementation's test data (googollee/eviltransform, used by
# many ports): WGS (31.1774276, 121.5272106) ↔ GCJ (31.17530398364597, 121.531541859215). Shanghai.
WGS_SH = (121.5272106, 31.1774276)
GCJ_SH = (121.531541859215, 31.17530398364597)
# BD-09 values published with the common coordtransform formula (e.g. geocraft's README):
# bd09_to_gcj02(116.404, 39.915) = (116.39762729119315, 39.90865673957631),
# gcj02_to_bd09(116.404, 39.915) = (116.41036949371029, 39.92133699351021),
# bd09_to_wgs84(116.404, 39.915) = (116.3913836995125, 39.907253214522164) (approximate GCJ inverse there).
BD_POINT = (116.404, 39.915)
BD_WGS = (116.3913836995125, 39.907253214522164)
WGS_GCJ_PAIRS = [
    (WGS_SH, GCJ_SH),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
]


@pytest.mark.parametrize("wgs,gcj", WGS_GCJ_PAIRS)
def test_wgs_to_gcj_matches_published_pairs(wgs, gcj):
    lon, lat = from_wgs84(*wgs, "gcj02")
    assert lon == pytest.approx(gcj[0], abs=1e-6)
    assert lat == pytest.approx(gcj[1], abs=1e-6)


@pytest.mark.parametrize("wgs,gcj", WGS_GCJ_PAIRS)
def test_gcj_to_wgs_exact_inverse(wgs, gcj):
    lon, lat = to_wgs84(*gcj, "gcj02")
    assert distance_m(lon, lat, *wgs) < 0.5


def test_bd09_step_matches_published_values():
    import eviltransform

    assert eviltransform.bd2gcj(BD_POINT[1], BD_POINT[0]) == pytest.approx((39.90865673957631, 116.39762729119315), abs=1e-9)
    assert eviltransform.gcj2bd(BD_POINT[1], BD_POINT[0]) == pytest.approx((39.92133699351021, 116.41036949371029), abs=1e-9)


def test_bd_to_wgs_close_to_published_value():
    lon, lat = to_wgs84(*BD_POINT, "bd09")
    assert distance_m(lon, lat, *BD_WGS) < 1  # ours uses the exact GCJ inverse: differs by centimetres


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
@pytest.mark.parametrize("point", [(114.3165, 30.5434), (114.27, 30.55), (114.9, 31.2), (113.8, 30.1)])
def test_round_trip_below_half_a_metre(crs, point):
    there = from_wgs84(*point, crs)
    back = to_wgs84(*there, crs)
    assert distance_m(*back, *point) < 0.5
    # and the offset is real (hundreds of metres in Wuhan), so the test is not vacuous
    assert distance_m(*there, *point) > 100


def test_wgs84_is_identity_and_outside_china_unchanged():
    assert to_wgs84(114.3, 30.5, "wgs84") == (114.3, 30.5)
    assert to_wgs84(2.35, 48.85, "gcj02") == pytest.approx((2.35, 48.85))


@pytest.mark.parametrize("lon,lat", [("abc", "30"), ("114", ""), ("nan", "30"), ("inf", "30"), ("181", "30"), ("114", "-91"), (None, 1)])
def test_invalid_coordinates(lon, lat):
    with pytest.raises(InvalidInput) as exc:
        parse_lon_lat(lon, lat)
    assert exc.value.code == "invalid_coordinates"


def test_unknown_crs():
    with pytest.raises(InvalidInput) as exc:
        to_wgs84(114.3, 30.5, "epsg3857")
    assert exc.value.code == "unknown_crs"


def test_parse_accepts_text_numbers():
    assert parse_lon_lat(" 114.3 ", "30.5") == (114.3, 30.5)
    assert math.isclose(parse_lon_lat("1e2", "0")[0], 100.0)
