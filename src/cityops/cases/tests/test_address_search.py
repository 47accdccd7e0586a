"""The intake page's address search (/cases/locate/) is the hotline's address parser (issue 12 §6): landmarks and
streets said the short way are found on the Wuhan demo geography, at the point the hotline would give."""

import pytest
from django.test import Client

from cityops.geo import index
from cityops.geo.selectors import locate_address, parse_address

pytestmark = pytest.mark.django_db


@pytest.fixture
def search(wuhan, operator):
    index.recheck()
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(operator)
    return lambda q: client.get("/cases/locate/", {"q": q})


@pytest.mark.parametrize(("text", "district"), [
    ("光谷广场", "洪山区"),
    ("黄鹤楼", "武昌区"),
    ("汉口火车站", "江汉区"),
    ("在水果湖街这边的公园旁边", "武昌区"),
    ("大智街附近那个路口", "江岸区"),
])
def test_intake_search_finds_what_the_hotline_finds(search, text, district):
    body = search(text).json()
    assert body["found"] and body["label"].startswith(district), body
    hotline = parse_address(text=text)  # what hotline.selectors.suggest answers for the same address
    assert hotline.location.district.name == district
    assert (body["lon"], body["lat"]) == tuple(round(v, 6) for v in hotline.point) \
        == (locate_address(text=text).lon, locate_address(text=text).lat)


def test_intake_search_of_nothing_known(search):
    response = search("就在那个老地方")
    assert response.status_code == 404 and response.json()["found"] is False
