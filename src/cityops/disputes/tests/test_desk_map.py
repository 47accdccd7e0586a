"""The desk's map picker without a browser: the page carries the case intake's picker with the desk's own area by
name, and a dispute whose place is only typed (no point picked) is still registered where the address says."""

import json
import re

import pytest
from django.test import Client

from cityops.disputes.tests import test_intake as intake
from cityops.disputes.tests.test_lifecycle_pages import DESK

pytestmark = pytest.mark.django_db
geography, reference, world = intake.geography, intake.reference, intake.world


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def test_the_desk_has_the_map_picker_with_its_area_by_name(world):
    html = _client(world["staff"]).get("/disputes/desk/").content.decode()
    assert 'id="intake-map"' in html and "cases/map.js" in html and "cases/intake.js" in html
    config = json.loads(re.search(r'<script id="case-map-config" type="application/json">(.*?)</script>', html,
                                  re.S).group(1))
    assert config["locate_point"] == "/api/v1/geo/locate"
    assert config["area"] == [{"code": "420106", "name": "武昌区"}]


def test_a_city_wide_desk_may_pick_anywhere_in_the_city(world, make_user):
    from cityops.core import roles

    html = _client(make_user("t_desk_admin", roles.ADMIN)).get("/disputes/desk/").content.decode()
    config = json.loads(re.search(r'<script id="case-map-config" type="application/json">(.*?)</script>', html,
                                  re.S).group(1))
    assert config["area"] == [] and config["locate_point"]


def test_a_typed_address_without_a_point_still_registers(world):
    from cityops.disputes.models import Dispute

    typed = {k: v for k, v in DESK.items() if k not in ("lon", "lat")}
    answer = _client(world["staff"]).post("/disputes/desk/", {**typed, "address": "武昌区东社区", "idem": "typed-1"})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    d = Dispute.objects.get()
    assert d.address == "武昌区东社区" and d.community_code == "420106001001"
