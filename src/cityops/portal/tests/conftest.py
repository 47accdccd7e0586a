"""Portal fixtures: the city of the Open311 tests, and a small real JPEG."""

import io

import pytest

from cityops.open311.tests.conftest import ZHONGNAN, city  # noqa: F401 - fixtures shared with open311


@pytest.fixture
def jpeg_bytes():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 50, 50)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def _no_rate_limit_left(settings):
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def point():
    return {"lat": ZHONGNAN[0], "lon": ZHONGNAN[1]}
