"""The scope of disputes (issue 14's scoping test): a mediator sees only their committee's disputes, a resident only
their own — through the API and the pages alike; and each other role's scope (selectors.dispute_list)."""

from __future__ import annotations

import pytest
from django.test import Client

from cityops.cases.tests.conftest import POINT_JIANGAN, POINT_WUCHANG_B
from cityops.disputes import selectors, services
from cityops.disputes.tests import test_intake as intake
from cityops.disputes.tests.test_intake import parties

pytestmark = pytest.mark.django_db
geography, reference, world, walk_in = intake.geography, intake.reference, intake.world, intake.walk_in


def web(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def disputes(world, walk_in):
    """east: routed to 东社区's committee; west: to 西社区's; mine: the resident's own application (portal);
    ja: in 江岸区, another centre's."""
    east = services.accept(dispute=walk_in(title="东社区纠纷"), actor=world["staff"], channel="people",
                           committee_id=world["east"].pk)
    west = services.accept(dispute=walk_in(title="西社区纠纷", lon=POINT_WUCHANG_B[0], lat=POINT_WUCHANG_B[1]),
                           actor=world["staff"], channel="people", committee_id=world["west"].pk)
    mine = walk_in(actor=world["resident"], source="portal", title="我的申请")
    ja = walk_in(actor=world["operator"], source="hotline", title="江岸纠纷", lon=POINT_JIANGAN[0], lat=POINT_JIANGAN[1])
    party = walk_in(title="我是被申请人", parties=[parties()[0], {"side": "respondent", "kind": "person",
                                                             "name": "乙", "user_id": world["resident2"].pk}])
    return {"east": east, "west": west, "mine": mine, "ja": ja, "party": party}


def _seen(user) -> set[str]:
    return set(selectors.dispute_list(user=user).values_list("title", flat=True))


def test_each_role_sees_its_own_scope(world, disputes):
    everything = {"东社区纠纷", "西社区纠纷", "我的申请", "江岸纠纷", "我是被申请人"}
    assert _seen(world["leader"]) == everything and _seen(world["operator"]) == everything
    assert _seen(world["staff"]) == everything - {"江岸纠纷"}
    assert _seen(world["other_staff"]) == {"江岸纠纷"}
    assert _seen(world["mediator"]) == {"东社区纠纷"}
    assert _seen(world["mediator_w"]) == {"西社区纠纷"}
    assert _seen(world["resident"]) == {"我的申请"}
    assert _seen(world["resident2"]) == {"我是被申请人"}  # a party whose account is linked
    assert _seen(world["grid"]) == everything - {"江岸纠纷", "西社区纠纷"}  # 东社区's grid
    assert _seen(world["grid_ja"]) == {"江岸纠纷"}
    assert _seen(world["police"]) == set()  # nothing until a dispute of its centre is escalated
    services.escalate(dispute=disputes["west"], actor=world["staff"], reason="扬言动手")
    assert _seen(world["police"]) == {"西社区纠纷"} and _seen(world["police_ja"]) == set()
    assert _seen(world["court_user"]) == set()  # a referring body: only what it referred


def test_a_mediator_sees_only_their_committee_through_api_and_pages(world, disputes, api_client_for):
    east, west = disputes["east"], disputes["west"]
    api = api_client_for(world["mediator"])
    listed = api.get("/api/v1/disputes/").json()
    assert [row["code"] for row in listed["items"]] == [east.code] and listed["count"] == 1
    assert api.get(f"/api/v1/disputes/{east.pk}").status_code == 200
    assert api.get(f"/api/v1/disputes/{west.pk}").status_code == 404
    assert api.post(f"/api/v1/disputes/{west.pk}/assign", data={"mediator_id": world["mediator"].pk},
                    content_type="application/json").status_code == 404
    page = web(world["mediator"])
    html = page.get("/disputes/").content.decode()
    assert east.code in html and west.code not in html and "东社区人民调解委员会" in html
    assert page.get(f"/disputes/{east.pk}/").status_code == 200
    assert page.get(f"/disputes/{west.pk}/").status_code == 404
    assert page.post(f"/disputes/{west.pk}/act/assign/", {"mediator_id": world["mediator"].pk}).status_code == 404
    assert west.code not in page.get("/disputes/queue/").content.decode()
    # The mediator of the other committee: the mirror image.
    assert web(world["mediator_w"]).get(f"/disputes/{east.pk}/").status_code == 404


def test_a_resident_sees_only_their_own_dispute_through_api_and_pages(world, disputes, api_client_for):
    mine, other = disputes["mine"], disputes["east"]
    api = api_client_for(world["resident"])
    assert [row["code"] for row in api.get("/api/v1/disputes/").json()["items"]] == [mine.code]
    assert api.get(f"/api/v1/disputes/{mine.pk}").status_code == 200
    assert api.get(f"/api/v1/disputes/{other.pk}").status_code == 404
    page = web(world["resident"])
    assert page.get("/disputes/").status_code == 302  # a resident's list is "my disputes"
    html = page.get("/disputes/mine/").content.decode()
    assert mine.code in html and other.code not in html and disputes["party"].code not in html
    track = page.get(f"/disputes/{mine.pk}/").content.decode()
    assert "我的申请" in track and "public-timeline" in track
    assert "11010519491231002X" not in track
    assert page.get(f"/disputes/{other.pk}/").status_code == 404
    assert page.get(f"/disputes/{disputes['party'].pk}/").status_code == 404
    # The other resident, a linked party of one dispute, follows that one only.
    page2 = web(world["resident2"])
    assert disputes["party"].code in page2.get("/disputes/mine/").content.decode()
    assert page2.get(f"/disputes/{mine.pk}/").status_code == 404
