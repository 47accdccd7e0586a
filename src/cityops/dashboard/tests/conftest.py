"""Fixtures of the early-warning tests: two districts with a street each (by name), the case categories, and
cases written as rows at chosen times (the detector reads nothing but their category, place and time)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

TZ = ZoneInfo("Asia/Shanghai")
WUCHANG, WUCHANG_STREET = "420106", "420106001"
JIANGAN, JIANGAN_STREET = "420102", "420102001"


@pytest.fixture
def places(db):
    from cityops.geo.models import Region

    square = {"type": "Polygon", "coordinates": [[[114.3, 30.5], [114.4, 30.5], [114.4, 30.6], [114.3, 30.5]]]}
    common = {"geometry": square, "min_lon": 114.3, "min_lat": 30.5, "max_lon": 114.4, "max_lat": 30.6,
              "centroid_lon": 114.35, "centroid_lat": 30.55, "area_km2": 10.0}
    for code, name, street, street_name in ((WUCHANG, "武昌区", WUCHANG_STREET, "中南路街道"),
                                            (JIANGAN, "江岸区", JIANGAN_STREET, "大智街道")):
        district = Region.objects.update_or_create(code=code, defaults={"name": name, "level": "district", **common})[0]
        Region.objects.update_or_create(code=street, defaults={"name": street_name, "level": "street",
                                                               "parent": district, **common})


@pytest.fixture
def categories(db):
    from cityops.cases.demo import load_categories
    from cityops.cases.models import Category

    load_categories()
    return {c.code: c for c in Category.objects.all()}


@pytest.fixture
def add_cases(categories):
    """add_cases(code, street, times) writes one case per time in the street (its district from the code), at
    114.35, 30.55 unless `at` (lon, lat) says where, in `community` if given."""
    from cityops.cases.models import Case

    counter = {"n": 0}

    def add(category_code: str, street: str, times: list[datetime], at: tuple[float, float] = (114.35, 30.55),
            community: str = "") -> list:
        rows = []
        for moment in times:
            counter["n"] += 1
            rows.append(Case(
                code=f"T{counter['n']:08d}", source="field", category=categories[category_code], lon=at[0],
                lat=at[1], region_code=(community or street + "001") + "01", district_code=street[:6],
                street_code=street, community_code=community, street_name="", description="测试", state="reported",
                created_at=moment,
            ))
        return Case.objects.bulk_create(rows)

    return add


@pytest.fixture
def quiet_history(add_cases, places):
    """Six weeks of noise complaints (噪声扰民) in each street, one every five hours, ending at NOW."""
    times = [NOW - timedelta(hours=6 * 168) + timedelta(hours=5 * i, minutes=7) for i in range(6 * 168 // 5)]
    add_cases("E0106", WUCHANG_STREET, times)
    add_cases("E0106", JIANGAN_STREET, times)


NOW = datetime(2026, 5, 12, 15, 0, tzinfo=TZ)  # a Tuesday afternoon, a workday
