import json

import pytest

from cityops.core.errors import InvalidInput
from cityops.geo.models import Region
from cityops.geo.selectors import locate_point
from cityops.geo.services import grids_generate, regions_import_geojson

pytestmark = pytest.mark.django_db

COMMUNITY = "420106011013"  # 水果湖街办事处 / 东亭社区居委会


def community_square(code_suffix="98", size=0.0004):
    c = Region.objects.get(code=COMMUNITY)
    x, y = c.centroid_lon, c.centroid_lat
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Feature", "properties": {"code": COMMUNITY + code_suffix, "name": "测试网格"},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def fc(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def snapshot():
    return Region.objects.count(), sorted(Region.objects.filter(code__startswith=COMMUNITY).values_list("code", flat=True))


def test_import_grid_and_index_rebuilds(wuhan):
    feature = community_square()
    created = regions_import_geojson(path_or_data=fc(feature), level="grid")
    assert [r.code for r in created] == [COMMUNITY + "98"]
    assert created[0].parent.code == COMMUNITY and created[0].generated is False
    # the new grid is drawn over the generated ones; lookups must see it at once (index rebuilt, lowest
    # position wins on overlap is not guaranteed, so check the point belongs to the new grid or its community)
    x, y = feature["geometry"]["coordinates"][0][0]
    loc = locate_point(lon=x + 0.0002, lat=y + 0.0002)
    assert loc.community.code == COMMUNITY


def test_import_from_file(wuhan, tmp_path):
    path = tmp_path / "grid.geojson"
    path.write_text(json.dumps(fc(community_square())), encoding="utf-8")
    assert len(regions_import_geojson(path_or_data=str(path), level="grid")) == 1


def _refused(data, code, level="grid", parent_code=None):
    before = snapshot()
    with pytest.raises(InvalidInput) as exc:
        regions_import_geojson(path_or_data=data, level=level, parent_code=parent_code)
    assert exc.value.code == code, exc.value.details
    assert exc.value.message and exc.value.message_en
    assert snapshot() == before
    return exc.value


def test_invalid_json(wuhan, tmp_path):
    path = tmp_path / "bad.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    err = _refused(str(path), "invalid_geojson")
    assert "JSON" in err.message_en


def test_not_geojson(wuhan):
    _refused({"type": "Topology"}, "invalid_geojson")
    _refused(b"[1, 2", "invalid_geojson")


def test_self_intersecting_bowtie_nothing_imported(wuhan):
    good = community_square("97")
    bowtie = community_square("96")
    (x, y) = bowtie["geometry"]["coordinates"][0][0]
    d = 0.0004
    bowtie["geometry"]["coordinates"] = [[[x, y], [x + d, y + d], [x + d, y], [x, y + d], [x, y]]]
    err = _refused(fc(good, bowtie), "invalid_geometry")
    assert "Self-intersection" in err.message_en or "self-intersection" in err.message_en


def test_non_polygon(wuhan):
    point = community_square()
    point["geometry"] = {"type": "Point", "coordinates": [114.3, 30.5]}
    _refused(fc(point), "invalid_geometry")


def test_unknown_parent(wuhan):
    orphan = community_square()
    orphan["properties"]["code"] = "42010601199901"  # community 420106011999 does not exist
    _refused(fc(orphan), "unknown_parent")
    _refused(fc(community_square()), "unknown_parent", parent_code="999999999999")


def test_outside_parent(wuhan):
    far = community_square()
    far["geometry"]["coordinates"] = [[[114.0, 30.9], [114.01, 30.9], [114.01, 30.91], [114.0, 30.91], [114.0, 30.9]]]
    _refused(fc(far), "outside_parent")


def test_duplicate_codes(wuhan):
    _refused(fc(community_square(), community_square()), "duplicate_code")
    existing = community_square("01")  # the demo already has grid 01 in this community
    _refused(fc(existing), "duplicate_code")


def test_bad_code_and_missing_name(wuhan):
    short = community_square()
    short["properties"]["code"] = "4201"
    _refused(fc(short), "invalid_code")
    nameless = community_square()
    nameless["properties"].pop("name")
    _refused(fc(nameless), "missing_property")


def test_adcode_property_accepted_for_district(db):
    square = [[[114.0, 30.0], [114.1, 30.0], [114.1, 30.1], [114.0, 30.1], [114.0, 30.0]]]
    feature = {"type": "Feature", "properties": {"adcode": 429901, "name": "测试区"},
               "geometry": {"type": "Polygon", "coordinates": square}}
    [region] = regions_import_geojson(path_or_data=fc(feature), level="district")
    assert region.code == "429901" and region.level == "district" and region.parent is None
    assert region.area_km2 == pytest.approx(9.6 * 11.06, rel=0.02)


def test_grid_generation_codes_and_containment(wuhan):
    import shapely

    street = "420106011"  # 水果湖街办事处
    Region.objects.filter(level="grid", code__startswith=street).delete()
    created = grids_generate(parent_code=street, size_m=300)
    assert created
    communities = {r.code: r for r in Region.objects.filter(level="community", code__startswith=street)}
    assert {g.code[:12] for g in created} == set(communities)
    for grid in created:
        assert len(grid.code) == 14 and grid.code.isdigit()
        assert grid.parent.code == grid.code[:12]
        parent = shapely.from_geojson(json.dumps(communities[grid.code[:12]].geometry))
        shape = shapely.from_geojson(json.dumps(grid.geometry))
        assert shape.is_valid
        # inside up to the 1e-6 degree (~0.1 m) coordinate snapping
        assert shapely.difference(shape, parent).area <= 1e-3 * shape.area
    # the grids of each community cover it (slivers are merged, not dropped)
    for code, community in communities.items():
        parent = shapely.from_geojson(json.dumps(community.geometry))
        union = shapely.union_all([shapely.from_geojson(json.dumps(g.geometry)) for g in created if g.code.startswith(code)])
        assert union.area == pytest.approx(parent.area, rel=1e-3)
    # lookups see the new grids immediately
    c = communities[COMMUNITY]
    assert locate_point(lon=c.centroid_lon, lat=c.centroid_lat).grid.code.startswith(COMMUNITY)


def test_grid_generation_refusals(wuhan):
    before = Region.objects.count()
    with pytest.raises(InvalidInput) as exc:
        grids_generate(parent_code=COMMUNITY, size_m=500)
    assert exc.value.code == "grids_exist"
    with pytest.raises(InvalidInput) as exc:
        grids_generate(parent_code=COMMUNITY, size_m=10, replace=True)
    assert exc.value.code == "too_many_cells"
    with pytest.raises(InvalidInput) as exc:
        grids_generate(parent_code=COMMUNITY, size_m="abc")
    assert exc.value.code == "invalid_size"
    assert Region.objects.count() == before
    regenerated = grids_generate(parent_code=COMMUNITY, size_m=400, replace=True)
    assert [g.code for g in regenerated] == [f"{COMMUNITY}{n:02d}" for n in range(1, len(regenerated) + 1)]


def test_import_and_grid_generation_are_on_the_timeline(wuhan, operator):
    from cityops.core.timeline import timeline_for

    regions_import_geojson(path_or_data=fc(community_square()), level="grid", actor=operator)
    entry = timeline_for(("geo.region", COMMUNITY)).last()
    assert (entry.action, entry.actor_id, entry.params["count"]) == ("regions_import", operator.pk, 1)
    with pytest.raises(InvalidInput):
        regions_import_geojson(path_or_data=fc(community_square("97", size=5)), level="grid", actor=operator)
    assert timeline_for(("geo.region", COMMUNITY)).count() == 1  # a refused import leaves no entry


def test_the_import_command_writes_regions_and_the_timeline(wuhan, tmp_path):
    # `cityops geo import` passed actor="cli", which the timeline cannot record: every import from the command
    # line failed after validating the file. The command is the system acting (its file is the entry's source).
    from django.core.management import call_command

    from cityops.core.timeline import timeline_for

    path = tmp_path / "grid.geojson"
    path.write_text(json.dumps(fc(community_square())), encoding="utf-8")
    call_command("geo", "import", str(path), "--level", "grid")
    assert Region.objects.filter(code=COMMUNITY + "98").exists()
    entry = timeline_for(("geo.region", COMMUNITY)).last()
    assert (entry.action, entry.actor_id, entry.params["source"]) == ("regions_import", None, f"GeoJSON: {path}")
