import pytest

from cityops.geo.models import Region

pytestmark = pytest.mark.django_db

URL = "/api/v1/geo/"


def test_requires_auth(wuhan, client):
    response = client.get(URL + "locate", {"lon": "114.3165", "lat": "30.5434"})
    assert response.status_code == 401
    assert client.get(URL + "regions").status_code == 401
    assert client.get(URL + "regions.geojson").status_code == 401
    assert client.get(URL + "regions/420106").status_code == 401


def test_locate_ok(wuhan, geo_client):
    response = geo_client.get(URL + "locate", {"lon": "114.3165", "lat": "30.5434"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["city"] == {"code": "420100", "name": "武汉市"}
    assert body["district"] == {"code": "420106", "name": "武昌区"}
    assert len(body["grid"]["code"]) == 14 and body["grid"]["code"].startswith(body["community"]["code"])
    assert body["lon"] == 114.3165 and body["lat"] == 30.5434


def test_locate_with_bearer_token(wuhan, make_user, api_client_for):
    client = api_client_for(make_user("t_geo_integration"))
    response = client.get(URL + "locate", {"lon": "114.27", "lat": "30.55", "crs": "gcj02"})
    assert response.status_code == 200
    assert response.json()["district"]["code"] == "420105"


def test_locate_outside_city(wuhan, geo_client):
    response = geo_client.get(URL + "locate", {"lon": "116.4", "lat": "39.9"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "outside_city" and body["message"] and body["message_en"]


@pytest.mark.parametrize("params,code", [
    ({"lon": "abc", "lat": "30.5"}, "invalid_coordinates"),
    ({"lon": "114.3", "lat": "NaN"}, "invalid_coordinates"),
    ({"lon": "214.3", "lat": "30.5"}, "invalid_coordinates"),
    ({"lon": "114.3", "lat": "30.5", "crs": "utm"}, "unknown_crs"),
])
def test_locate_bad_input_is_our_400(wuhan, geo_client, params, code):
    response = geo_client.get(URL + "locate", params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code and body["message"] and body["message_en"]


def test_locate_missing_parameter_is_400(wuhan, geo_client):
    response = geo_client.get(URL + "locate", {"lon": "114.3"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"


def test_regions_list(wuhan, geo_client):
    response = geo_client.get(URL + "regions", {"level": "district"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 13 and len(body["items"]) == 13
    wuchang = next(i for i in body["items"] if i["code"] == "420106")
    assert wuchang["name"] == "武昌区" and wuchang["parent"] == "420100" and "geometry" not in wuchang
    streets = geo_client.get(URL + "regions", {"parent": "420106", "limit": "5"}).json()
    assert streets["count"] == 14 and len(streets["items"]) == 5
    assert {i["level"] for i in streets["items"]} == {"street"}
    assert geo_client.get(URL + "regions", {"level": "planet"}).json()["code"] == "invalid_level"
    assert geo_client.get(URL + "regions", {"limit": "x"}).status_code == 400


def test_region_detail(wuhan, geo_client):
    response = geo_client.get(URL + "regions/420106011013")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "东亭社区居委会" and body["level"] == "community" and body["generated"] is True
    assert body["ancestors"]["street"]["name"] == "水果湖街办事处"
    assert body["ancestors"]["district"]["code"] == "420106"
    assert body["geometry"]["type"] in ("Polygon", "MultiPolygon")
    missing = geo_client.get(URL + "regions/999")
    assert missing.status_code == 404 and missing.json()["code"] == "region_not_found"


def test_regions_geojson(wuhan, geo_client):
    response = geo_client.get(URL + "regions.geojson", {"level": "district", "simplify": "0.001"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    data = response.json()
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 13
    full = geo_client.get(URL + "regions.geojson", {"level": "district"}).json()
    assert len(str(data)) < len(str(full))
    grids = geo_client.get(URL + "regions.geojson", {"parent": "420106011013"}).json()
    assert grids["features"] and all(f["properties"]["level"] == "grid" for f in grids["features"])
    assert geo_client.get(URL + "regions.geojson", {"simplify": "-1"}).json()["code"] == "invalid_simplify"


def test_map_page(wuhan, geo_client):
    from django.test import Client

    assert Client().get("/geo/").status_code == 302  # login required
    response = geo_client.get("/geo/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "leaflet/leaflet.js" in html and "geo/map.js" in html and "geo-config" in html
    assert "http://" not in html.split("geo-config")[1] and "https://" not in html.split("geo-config")[1]


def test_admin_lists_regions(wuhan, client, make_user):
    admin = make_user("t_geo_admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.get("/admin/geo/region/", {"q": "东亭"})
    assert response.status_code == 200 and "东亭社区居委会" in response.content.decode()
    assert Region.objects.filter(name="东亭社区居委会").exists()
