# ruff: noqa: F811  (pytest fixtures imported from test_campaigns are parameters here)
"""Editing a screening campaign (campaigns.campaign_update, PATCH /api/v1/disputes/campaigns/{id}, the page
/disputes/campaigns/<id>/edit/): by an organiser whose regions hold the campaign, with the checks of opening one,
every change on the campaign's timeline — and never so that visits or disputes already recorded fall outside its
period or regions."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cityops.core import roles
from cityops.core.models import TimelineEntry
from cityops.disputes.tests.test_campaigns import (  # noqa: F401 — the fixtures
    POINT_HANYANG_A,
    campaign,
    centre_staff,
    geography,
    hy_worker,
    media,
    reference,
)

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
URL = "/api/v1/disputes/campaigns/{}"


def patch(client, campaign, body):
    return client.patch(URL.format(campaign.pk), json.dumps(body), content_type="application/json")


def updates(campaign) -> list[dict]:
    return [e.params["changes"] for e in TimelineEntry.objects.filter(
        subject_type="disputes.campaign", subject_id=str(campaign.pk), action="campaign_update").order_by("seq")]


@pytest.fixture
def visited(campaign, hy_worker, media):
    """A visit in 汉阳 东社区 (420105001001) yesterday, under the campaign."""
    from cityops.disputes import campaigns

    campaigns.visit_log(actor=hy_worker, client_id=uuid.uuid4(), place="青和居 5-501", campaign_id=campaign.pk,
                        lon=POINT_HANYANG_A[0], lat=POINT_HANYANG_A[1],
                        visited_at=timezone.now() - timedelta(days=1))
    return campaign


def test_the_organiser_edits_every_field_and_each_change_is_on_the_timeline(campaign, centre_staff, api_client_for):
    body = {"name": "汉阳区矛盾纠纷排查化解冬季行动", "ends_on": (TODAY + timedelta(days=60)).isoformat(),
            "region_codes": ["420105001001"], "kinds": ["labour"], "goal": "重点走访出租屋", "goal_households": 150,
            "description": "延长至春节后"}
    answer = patch(api_client_for(centre_staff), campaign, body)
    assert answer.status_code == 200, answer.content
    out = answer.json()
    assert (out["name"], out["ends_on"], out["goal_households"]) == (body["name"], body["ends_on"], 150)
    assert out["regions"] == [{"code": "420105001001", "name": "东社区"}] and out["code"] == campaign.code
    campaign.refresh_from_db()
    assert (campaign.region_codes, campaign.kinds, campaign.goal) == (["420105001001"], ["labour"], "重点走访出租屋")
    [changes] = updates(campaign)
    assert changes["name"] == {"from": "汉阳区矛盾纠纷排查化解百日行动", "to": body["name"]}
    assert changes["ends_on"] == {"from": (TODAY + timedelta(days=30)).isoformat(), "to": body["ends_on"]}
    assert changes["region_codes"] == {"from": ["420105001"], "to": ["420105001001"]}
    assert changes["kinds"] == {"from": ["neighbour", "property"], "to": ["labour"]}
    assert "starts_on" not in changes  # only what changed
    # The campaign's page shows the edit with names, never codes.
    client = Client()
    client.force_login(centre_staff)
    html = client.get(f"/disputes/campaigns/{campaign.pk}/").content.decode()
    timeline = html[html.index('id="campaign-timeline"'):]
    assert "发起排查行动" in timeline and "修改排查行动" in timeline
    assert "东社区" in timeline and "劳动争议（欠薪）" in timeline and body["name"] in timeline
    assert "420105001" not in timeline and "labour" not in timeline


def test_a_patch_that_changes_nothing_writes_nothing(campaign, centre_staff, api_client_for):
    assert patch(api_client_for(centre_staff), campaign, {"name": campaign.name}).status_code == 200
    assert patch(api_client_for(centre_staff), campaign, {}).status_code == 200
    assert updates(campaign) == []


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"ends_on": (TODAY - timedelta(days=10)).isoformat()}, 400, "ends_before_start"),
    ({"ends_on": (TODAY + timedelta(days=400)).isoformat()}, 400, "campaign_too_long"),
    ({"region_codes": ["420106001"]}, 403, "region_out_of_scope"),  # 武昌: not the 汉阳 centre's
    ({"region_codes": ["999999"]}, 400, "unknown_region"),
    ({"name": ""}, 400, "name_required"),
    ({"name": "排查\u0007"}, 400, "invalid_text"),
    ({"kinds": ["alien"]}, 400, "unknown_dispute_kind"),
    ({"goal_households": 0}, 400, None),
    ({"ends_on": "not a date"}, 400, None),
])
def test_bad_edits_are_refused_with_a_code_and_nothing_changes(campaign, centre_staff, api_client_for, body, status,
                                                                 code):
    before = (campaign.name, campaign.ends_on, campaign.region_codes)
    answer = patch(api_client_for(centre_staff), campaign, body)
    assert answer.status_code == status, answer.content
    assert answer.json()["code"] and answer.json()["message_en"]
    if code:
        assert answer.json()["code"] == code
    campaign.refresh_from_db()
    assert (campaign.name, campaign.ends_on, campaign.region_codes) == before and updates(campaign) == []


def test_visited_regions_cannot_leave_the_campaign(visited, centre_staff, api_client_for):
    client = api_client_for(centre_staff)
    answer = patch(client, visited, {"region_codes": ["420105001002"]})  # 西社区 only: 东社区 was visited
    assert answer.status_code == 409 and answer.json()["code"] == "findings_outside_regions"
    assert "汉阳区一街道" in answer.json()["message"] and answer.json()["details"]["regions"] == ["420105001"]
    visited.refresh_from_db()
    assert visited.region_codes == ["420105001"] and updates(visited) == []
    # Narrowed to the visited community: allowed.
    assert patch(client, visited, {"region_codes": ["420105001001"]}).status_code == 200


def test_the_period_keeps_the_days_visited(visited, centre_staff, api_client_for):
    client = api_client_for(centre_staff)
    answer = patch(client, visited, {"starts_on": TODAY.isoformat()})  # the visit was yesterday
    assert answer.status_code == 409 and answer.json()["code"] == "visits_outside_period"
    assert answer.json()["details"]["first_visit"] == (TODAY - timedelta(days=1)).isoformat()
    visited.refresh_from_db()
    assert visited.starts_on == TODAY - timedelta(days=3)
    # Longer, or starting on the day of the visit: allowed.
    assert patch(client, visited, {"starts_on": (TODAY - timedelta(days=1)).isoformat(),
                                   "ends_on": (TODAY + timedelta(days=90)).isoformat()}).status_code == 200


def test_only_an_organiser_whose_regions_hold_the_campaign_edits_it(campaign, hy_worker, make_user, api_client_for):
    community_staff = make_user("t_community_east", roles.REGION_STAFF, region_codes=["420105001001"])
    answer = patch(api_client_for(community_staff), campaign, {"name": "改名"})
    assert answer.status_code == 403 and answer.json()["code"] == "campaign_not_yours"
    answer = patch(api_client_for(hy_worker), campaign, {"name": "改名"})
    assert answer.status_code == 403 and answer.json()["code"] == "role_not_allowed"
    wuchang = make_user("t_street_wc", roles.REGION_STAFF, region_codes=["420106001"])
    assert patch(api_client_for(wuchang), campaign, {"name": "改名"}).status_code == 404  # not in their scope
    campaign.refresh_from_db()
    assert campaign.name == "汉阳区矛盾纠纷排查化解百日行动"
    client = Client()
    client.force_login(community_staff)
    assert client.get(f"/disputes/campaigns/{campaign.pk}/edit/").status_code == 403
    assert 'id="campaign-edit"' not in client.get(f"/disputes/campaigns/{campaign.pk}/").content.decode()


def test_the_edit_page(visited, centre_staff):
    client = Client()
    client.force_login(centre_staff)
    assert 'id="campaign-edit"' in client.get(f"/disputes/campaigns/{visited.pk}/").content.decode()
    page = client.get(f"/disputes/campaigns/{visited.pk}/edit/")
    assert page.status_code == 200 and visited.name in page.content.decode()
    # The date inputs carry the campaign's dates as <input type="date"> reads them (ISO), not empty.
    assert f'value="{visited.starts_on.isoformat()}"' in page.content.decode()
    form = {"name": visited.name, "starts_on": visited.starts_on.isoformat(), "region_codes": ["420105001"],
            "kinds": ["neighbour", "property"],
            "ends_on": (visited.starts_on - timedelta(days=1)).isoformat(), "goal": visited.goal}
    html = client.post(f"/disputes/campaigns/{visited.pk}/edit/", form).content.decode()
    assert "结束日期早于开始日期" in html  # said beside the field, nothing saved
    form.update(ends_on=(TODAY + timedelta(days=45)).isoformat(), region_codes=["420105001002"])
    html = client.post(f"/disputes/campaigns/{visited.pk}/edit/", form).content.decode()
    assert "不能移出排查区域" in html
    visited.refresh_from_db()
    assert visited.ends_on == TODAY + timedelta(days=30) and updates(visited) == []
    form.update(region_codes=["420105001"], goal="每户走访两遍")
    answer = client.post(f"/disputes/campaigns/{visited.pk}/edit/", form)
    assert answer.status_code == 302 and answer["Location"] == f"/disputes/campaigns/{visited.pk}/"
    visited.refresh_from_db()
    assert (visited.ends_on, visited.goal) == (TODAY + timedelta(days=45), "每户走访两遍")
    assert set(updates(visited)[0]) == {"ends_on", "goal"}  # kinds kept (the form sends them unchanged)


def test_a_dispute_tagged_from_elsewhere_does_not_block_the_regions(campaign, centre_staff, api_client_for):
    """A dispute registered through the API with the campaign but in 武昌 was never inside the campaign: the
    regions may still change (only what an edit would leave out counts)."""
    from cityops.core.workflow import create_with_timeline
    from cityops.disputes.models import Dispute

    create_with_timeline(Dispute(code="TJ-ELSEWHERE", title="外区纠纷", description="x", kind="neighbour",
                                 source="screening", region_code="420106001001", campaign=campaign),
                         actor=centre_staff)
    answer = patch(api_client_for(centre_staff), campaign, {"region_codes": ["420105001001"]})
    assert answer.status_code == 200, answer.content

