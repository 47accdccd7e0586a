"""Open311 settings (RULES.md §8), each overridable as CITYOPS_OPEN311_<NAME>."""

from django.conf import settings

DEFAULTS = {
    # The city's domain, as the GeoReport v2 spec suggests (sfgov.org for San Francisco).
    "JURISDICTION": "wuhan.gov.cn",
    # GeoReport v2 "Response Volume": a span of 90 days or the first 1000 requests, whichever is smaller.
    "MAX_DAYS": 90,
    "MAX_ROWS": 1000,
    # realtime: POST answers the service_request_id; batch: it answers a token (GET tokens/{token}).
    "TYPE": "realtime",
    # POST requests per api_key per minute (0 = unlimited).
    "RATE_LIMIT_PER_MINUTE": 60,
    # Decimals of the public lat/long: 4 ≈ 11 m. Never more than what the case itself stores.
    "COORD_DECIMALS": 4,
    # Categories whose requests are personal matters (property dispute, unpaid wages, consumer complaints):
    # they can be reported but are never listed publicly.
    "PRIVATE_CATEGORIES": ("E0603", "E0604", "E0606"),
    "CONTACT": "武汉市城市运行管理中心 12345 / Wuhan city operations centre, hotline 12345",
    "KEY_SERVICE": "向城市运行管理中心申请 api_key（cityops open311 key create）/ ask the city operations centre for an api_key",
    "CHANGESET": "2026-01-01T00:00:00+08:00",
    "ENDPOINT_TYPE": "production",
}


def get(name: str):
    return getattr(settings, f"CITYOPS_OPEN311_{name}", DEFAULTS[name])
