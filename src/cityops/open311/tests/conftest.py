"""Open311 fixtures: the Wuhan demo city with its categories and departments, and a client with a key."""

import pytest

# 中南路, 武昌区 (WGS-84) and a point on the Yangtze bank in 江岸区.
ZHONGNAN = ("30.5373", "114.3362")  # lat, long as a client sends them: strings
JIANGAN = ("30.6018", "114.2989")


@pytest.fixture
def city(wuhan):
    from cityops.accounts.demo import load_departments
    from cityops.cases.demo import load_categories
    from cityops.geo import index
    from cityops.open311.services import attributes_load

    load_departments()
    load_categories()
    attributes_load()  # a transactional test of another app may have flushed the migration's rows
    index.recheck()
    return wuhan


@pytest.fixture
def o311_key(city):
    from cityops.open311.services import client_create

    _client, key = client_create(name="test-app")
    return key


@pytest.fixture
def post_request(client, o311_key):
    """post_request(fmt="xml", **fields) → response; api_key and a valid manhole report unless overridden."""

    def post(fmt="xml", **fields):
        data = {
            "api_key": o311_key,
            "service_code": "C0101",
            "lat": ZHONGNAN[0],
            "long": ZHONGNAN[1],
            "description": "中南路口井盖不见了，很危险",
            "attribute[cover_state]": "missing",
        }
        data.update(fields)
        data = {k: v for k, v in data.items() if v is not None}
        return client.post(f"/open311/v2/requests.{fmt}", data)

    return post
