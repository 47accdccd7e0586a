"""The campaign pages: the list, a new campaign, a campaign's page (coverage, visits per day, findings, the map
with the base map) and the phone page for logging a visit (its form posts without JavaScript too)."""

# ruff: noqa: F811  (pytest fixtures imported from test_campaigns are parameters here)
from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.utils import timezone

from cityops.core import roles
from cityops.disputes.tests.test_campaigns import (  # noqa: F401 (fixtures)
    campaign,
    centre_staff,
    geography,
    hy_worker,
    jpeg,
    media,
    reference,
    visit,
    wc_worker,
)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_campaign_page_shows_coverage_findings_and_the_map(campaign, hy_worker, centre_staff, media):
    visit(hy_worker, campaign, place="青和居 3栋2单元501")
    visit(hy_worker, campaign, place="青和居 3栋2单元502", outcome="resolved", findings="停车纠纷当场化解")
    with_photo = visit(hy_worker, campaign, place="青和居 3栋2单元503", outcome="case", findings="楼道堆物",
                       case={"category": "E0101"}, photo=jpeg()).visit
    page = logged_in(centre_staff).get(f"/disputes/campaigns/{campaign.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert campaign.name in html and "汉阳区一街道" in html
    assert "1.5%" in html and "已走访 3 户 / 共 200 户" in html and "户数为估算" in html
    assert 'id="campaign-map"' in html and "geo/basemap.js" in html and "disputes/visit_map.js" in html
    assert "青和居 3栋2单元503" in html and "发现城市事件" in html
    assert "邻里纠纷" in html and "neighbour" not in html.split('id="campaign-map-config"')[0]
    assert 'id="per-day"' in html
    assert with_photo.photo.url in html


def test_the_list_shows_the_campaigns_in_scope(campaign, hy_worker, wc_worker, centre_staff):
    html = logged_in(hy_worker).get("/disputes/campaigns/").content.decode()
    assert campaign.name in html and "登记走访" in html and "发起排查行动" not in html
    html = logged_in(wc_worker).get("/disputes/campaigns/").content.decode()
    assert campaign.name not in html and "暂无排查行动" in html
    assert logged_in(wc_worker).get(f"/disputes/campaigns/{campaign.pk}/").status_code == 404
    html = logged_in(centre_staff).get("/disputes/campaigns/").content.decode()
    assert "发起排查行动" in html


def test_a_campaign_is_opened_from_its_form(centre_staff):
    from cityops.disputes.models import Campaign

    client = logged_in(centre_staff)
    form = client.get("/disputes/campaigns/new/").content.decode()
    assert "汉阳区一街道" in form and "武昌区" not in form  # only the centre's own regions are offered
    today = timezone.localdate()
    answer = client.post("/disputes/campaigns/new/", {
        "name": "物业纠纷专项排查", "starts_on": today.isoformat(), "ends_on": today.isoformat(),
        "region_codes": ["420105001001"], "kinds": ["property"], "goal": "走访全部住户"})
    campaign = Campaign.objects.get()
    assert answer.status_code == 302 and answer.url == f"/disputes/campaigns/{campaign.pk}/"
    assert campaign.kinds == ["property"] and campaign.region_codes == ["420105001001"]
    refused = client.post("/disputes/campaigns/new/", {
        "name": "倒序", "starts_on": today.isoformat(), "ends_on": "2000-01-01", "region_codes": ["420105001001"]})
    assert refused.status_code == 200 and "结束日期早于开始日期" in refused.content.decode()
    assert Campaign.objects.count() == 1


def test_the_phone_page_logs_a_visit_without_javascript(campaign, hy_worker):
    from cityops.disputes.models import Visit

    client = logged_in(hy_worker)
    page = client.get("/disputes/campaigns/visit/").content.decode()
    assert campaign.name in page and "东社区01号网格" in page and "disputes/visit.js" in page
    assert "今日还没有登记走访" in page and "<script>" not in page  # CSP: no inline script
    client_id = str(uuid.uuid4())
    form = {"client_id": client_id, "campaign_id": campaign.pk, "place_kind": "household", "place": "青和居 1栋101",
            "region_code": "42010500100101", "outcome": "nothing", "people_met": "", "findings": ""}
    assert client.post("/disputes/campaigns/visit/", form).status_code == 302
    assert client.post("/disputes/campaigns/visit/", form).status_code == 302  # a second tap: still one visit
    visit_row = Visit.objects.get()
    assert str(visit_row.client_id) == client_id and visit_row.region_code == "42010500100101"
    assert "青和居 1栋101" in client.get("/disputes/campaigns/visit/").content.decode()
    refused = client.post("/disputes/campaigns/visit/", {**form, "client_id": str(uuid.uuid4()),
                                                        "region_code": "42010600100101"})
    assert "走访地点不在您负责的区域内" in refused.content.decode() and Visit.objects.count() == 1


@pytest.mark.parametrize("path", ["/disputes/campaigns/", "/disputes/campaigns/visit/", "/disputes/campaigns/new/"])
def test_residents_are_kept_out(make_user, reference, path):
    resident = make_user("t_resident_c", roles.RESIDENT)
    assert logged_in(resident).get(path).status_code == 403



def test_home_cards(campaign, hy_worker, centre_staff, make_user):
    from cityops.disputes.campaign_views import campaign_home_cards

    visit(hy_worker, campaign)
    cards = {str(c.title): c for c in campaign_home_cards(hy_worker)}
    assert cards["今日走访"].count == 1 and cards["今日走访"].url == "/disputes/campaigns/visit/"
    assert "排查化解行动" not in cards
    cards = {str(c.title): c for c in campaign_home_cards(centre_staff)}
    assert cards["排查化解行动"].count == 1 and "今日走访" not in cards
    leader = make_user("t_leader_c", roles.LEADER)
    assert {str(c.title) for c in campaign_home_cards(leader)} == {"排查化解行动"}


def test_the_disputes_found_are_listed_in_the_readers_scope(campaign, hy_worker, centre_staff, make_user):
    logged = visit(hy_worker, campaign, outcome="dispute", findings="楼上漏水，两户多次争吵", dispute={
        "kind": "neighbour", "parties": [{"side": "applicant", "kind": "person", "name": "张三"},
                                         {"side": "respondent", "kind": "person", "name": "李四"}]})
    dispute = logged.visit.dispute
    html = logged_in(centre_staff).get(f"/disputes/campaigns/{campaign.pk}/").content.decode()
    assert f'href="/disputes/{dispute.pk}/"' in html and dispute.code in html
    # A street's staff of the other street reads the campaign's counts but not the dispute of another region.
    west = make_user("t_street_other", roles.REGION_STAFF, region_codes=["420105001002"])
    html = logged_in(west).get(f"/disputes/campaigns/{campaign.pk}/").content.decode()
    assert dispute.code not in html and "您无权查看其详情" in html
