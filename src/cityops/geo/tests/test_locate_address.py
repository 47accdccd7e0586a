"""/geo/locate.json: the report map's address search is the platform's one address parser (the hotline's), open
to residents who are not signed in, and says in their language when it finds nothing or more than one place."""

import pytest
from django.test import Client

from cityops.geo.selectors import locate_address

pytestmark = pytest.mark.django_db


def test_a_landmark_is_found_where_a_report_would_be_placed(wuhan):
    response = Client().get("/geo/locate.json", {"q": "黄鹤楼"})
    assert response.status_code == 200
    body = response.json()
    expected = locate_address(text="黄鹤楼")
    assert body["found"] and (body["lon"], body["lat"]) == (round(expected.lon, 6), round(expected.lat, 6))
    assert body["label"].startswith("武昌区") and body["zoom"] == 17


def test_nothing_found_is_404_with_a_message(wuhan):
    response = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/geo/locate.json", {"q": "火星基地九号仓库"})
    assert response.status_code == 404 and response.json() == {
        "found": False, "code": "address_not_found", "message": "没有找到该地址，请换个说法或在地图上点选位置",
        "message_en": "This address was not found: try saying it another way, or tap the place on the map"}
    empty = Client().get("/geo/locate.json", {"q": "  "})
    assert empty.status_code == 404 and not empty.json()["found"]


def test_an_ambiguous_name_lists_the_places(wuhan):
    """公园社区 is in 江岸区 and in 江汉区: no pin, the places named."""
    body = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/geo/locate.json", {"q": "公园社区门口"}).json()
    assert not body["found"] and "江岸区" in body["message"] and "江汉区" in body["message"]


def test_the_message_is_in_both_languages_whatever_the_residents(wuhan):
    """Coded as every error (code, message, message_en): the page shows the one of its language."""
    body = Client(HTTP_ACCEPT_LANGUAGE="en").get("/geo/locate.json", {"q": "公园社区门口"}).json()
    assert body["code"] == "address_ambiguous"
    assert body["message"].startswith("这个地名有好几处") and body["message_en"].startswith("There are several places of this name")
    assert "江岸区" in body["message_en"]
