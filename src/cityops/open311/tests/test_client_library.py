"""A published Open311 client from PyPI against the running server: `georeport` 0.3.1 (reads services,
definitions and requests in XML and JSON, as it does against Chicago or Boston). It cannot post, so the
request it reads is posted the way FixMyStreet's Perl client does (form-encoded, attribute[code])."""

import pytest
import requests

from .conftest import ZHONGNAN

georeport = pytest.importorskip("georeport")
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(live_server, city):
    from cityops.open311.services import client_create

    _client, key = client_create(name="live-test")
    return live_server.url + "/open311/v2", key


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_client_reads_what_a_fixmystreet_style_post_created(server, fmt):
    root, key = server
    posted = requests.post(f"{root}/requests.xml", data={
        "api_key": key, "jurisdiction_id": "wuhan.gov.cn", "service_code": "C0101",
        "lat": ZHONGNAN[0], "long": ZHONGNAN[1], "email": "a@example.com", "first_name": "San", "last_name": "Zhang",
        "description": "title: 井盖缺失\n\ndetail: 中南路口\n\nSubmitted via FixMyStreet",
        "attribute[cover_state]": "missing", "attribute[fixmystreet_id]": "123",
    }, timeout=30)
    assert posted.status_code == 200, posted.text
    client = georeport.GeoReport(root, jurisdiction="wuhan.gov.cn", output_format=fmt)

    services = client.get_service_list()
    assert "C0101" in {s["service_code"] for s in services}
    definition = client.get_service_definition("C0101")
    attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
    first = attributes[0] if isinstance(attributes, list) else attributes
    assert first["code"] == "cover_state"

    found = client.get_service_requests(service_code="C0101", status="open")
    found = found if isinstance(found, list) else [found]  # xmltodict gives one request as a dict
    assert len(found) == 1 and found[0]["status"] == "open"
    code = found[0]["service_request_id"]
    one = client.get_service_request(code)
    assert one["service_request_id"] == code and "a@example.com" not in str(one)
    assert str(one["lat"]).startswith("30.537")


def test_georeport_client_sees_http_errors(server):
    root, _key = server
    client = georeport.GeoReport(root, jurisdiction="sfgov.org")
    with pytest.raises(requests.HTTPError) as err:
        client.get_service_list()
    assert err.value.response.status_code == 404
