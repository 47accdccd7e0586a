import pytest

from cityops.geo.demo import DISTRICTS, expected_counts, load_demo_geography
from cityops.geo.models import Region
from cityops.geo.selectors import locate_address

pytestmark = pytest.mark.django_db


def test_demo_counts_and_hierarchy(wuhan):
    counts = {level: Region.objects.filter(level=level).count() for level in ("city", "district", "street", "community", "grid")}
    expected = expected_counts()
    assert counts["city"] == 1 and counts["district"] == 13
    assert counts["street"] == expected["street"] and counts["community"] == expected["community"]
    assert 10_000 <= counts["grid"] <= 20_000
    assert set(Region.objects.filter(level="district").values_list("code", flat=True)) == set(DISTRICTS)
    # codes are prefixes of their children's codes (RULES.md §1: 6 + 3 + 3 + 2)
    for level, length in (("street", 9), ("community", 12), ("grid", 14)):
        bad = [c for c, p in Region.objects.filter(level=level).values_list("code", "parent__code")
               if len(c) != length or not c.startswith(p)]
        assert not bad, bad[:5]


def test_real_names_present(wuhan):
    street = Region.objects.get(level="street", name="水果湖街办事处")
    assert street.code.startswith("420106") and street.generated
    community = Region.objects.get(parent=street, name="东亭社区居委会")
    assert community.level == "community" and "generated" in community.source
    assert Region.objects.get(code="420106").generated is False


def test_org_units_created(wuhan):
    from cityops.accounts.models import OrgUnit

    unit = OrgUnit.objects.get(name="东亭社区居委会", kind="community")
    assert unit.region_code == unit.code and unit.code.startswith("420106")
    assert unit.parent.kind == "street" and unit.parent.name == "水果湖街办事处"
    assert OrgUnit.objects.filter(kind="street").count() >= Region.objects.filter(level="street").count()


def test_idempotent(wuhan, django_assert_max_num_queries):
    before = Region.objects.count()
    with django_assert_max_num_queries(20):
        load_demo_geography()
    assert Region.objects.count() == before


@pytest.mark.parametrize("text,level,name", [
    ("武汉市武昌区水果湖街道东亭社区", "community", "东亭社区居委会"),
    ("水果湖东亭社区旁", "community", "东亭社区居委会"),
    ("武昌区中南路街道", "street", "中南路街办事处"),
    ("湖北省武汉市洪山区珞喻路", "district", "洪山区"),
    ("江岸区", "district", "江岸区"),
])
def test_locate_address(wuhan, text, level, name):
    loc = locate_address(text=text)
    assert loc is not None
    assert getattr(loc, level).name == name and loc.deepest.name == name
    assert loc.district is not None and loc.method == "address"


# Landmarks ("汉口火车站附近") are found since issue 12 §6: see test_address.py.
@pytest.mark.parametrize("text", ["北京市朝阳区建国路", "随便写的文字"])
def test_locate_address_none(wuhan, text):
    assert locate_address(text=text) is None
