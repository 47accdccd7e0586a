"""A resident's report without a map point is located by the platform's one address parser (issue 12 §6):
the same answer the hotline and the intake page's address search give."""

import pytest

from cityops.cases.models import Case
from cityops.geo.selectors import locate_address

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("address", "district"), [("黄鹤楼旁边", "420106"), ("在水果湖街这边的公园旁边", "420106"),
                                                   ("汉口火车站出站口", "420103")])
def test_report_located_by_spoken_address(client, city, address, district):
    response = client.post("/portal/report/", {"category": "C0101", "description": "井盖缺失", "address": address})
    assert response.status_code == 302, response.content.decode()[:500]
    case = Case.objects.get(code=client.get("/portal/report/done/").context["submitted"]["code"])
    expected = locate_address(text=address)
    assert case.region_code.startswith(district) and expected.district.code == district
    assert (round(case.lon, 6), round(case.lat, 6)) == (round(expected.lon, 6), round(expected.lat, 6))


def test_an_ambiguous_name_is_not_guessed(client, city):
    """公园社区 is in 江岸区 and in 江汉区: the resident is asked for the point instead of a coin toss."""
    response = client.post("/portal/report/", {"category": "C0101", "description": "井盖缺失", "address": "公园社区门口"})
    assert response.status_code == 400 and "请在地图上标注位置" in response.content.decode()
    assert not Case.objects.filter(description="井盖缺失").exists()
