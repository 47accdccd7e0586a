"""Screening campaigns (排查化解行动) and door-knocking visits (天天敲门): a visit is stored once per client_id, a
finding becomes a dispute or a city case carrying the campaign, coverage is households visited over the 户数 of
the campaign's regions, bad input is refused with a coded bilingual 4xx and nothing written, and every read is
scoped to the user's regions."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
import shapely
from django.db import connection
from django.utils import timezone

from cityops.core import roles

# 汉阳区 420105: one street, two communities side by side, one grid each; 武昌区 420106 beside it, the same.
HANYANG = (114.20, 30.52, 114.26, 30.58)
WUCHANG = (114.30, 30.52, 114.36, 30.58)
POINT_HANYANG_A = (114.21, 30.55)  # grid 42010500100101
POINT_HANYANG_B = (114.25, 30.55)  # grid 42010500100201
POINT_WUCHANG = (114.31, 30.55)  # grid 42010600100101


def _regions(code: str, name: str, box) -> list:
    x0, y0, x1, y1 = box
    mid = (x0 + x1) / 2
    left, right = shapely.box(x0, y0, mid, y1), shapely.box(mid, y0, x1, y1)
    whole = shapely.box(*box)
    return [
        ("district", code, name, whole, None),
        ("street", code + "001", name + "一街道", whole, code),
        ("community", code + "001001", "东社区", left, code + "001"),
        ("community", code + "001002", "西社区", right, code + "001"),
        ("grid", code + "00100101", "东社区01号网格", left, code + "001001"),
        ("grid", code + "00100201", "西社区01号网格", right, code + "001002"),
    ]


@pytest.fixture
def geography(db):
    """Two small districts (a synthetic city: the Wuhan demo takes minutes to load), with 户数 on the communities:
    汉阳 东社区 120 and 西社区 80 (estimates), 武昌 東 300 (a census figure)."""
    from cityops.accounts.models import OrgUnit
    from cityops.geo import index
    from cityops.geo.geometry import shape_fields
    from cityops.geo.models import Region

    if Region.objects.exists():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM geo_region")
    city = Region.objects.create(code="420100", name="武汉市", level="city",
                                 **shape_fields(shapely.box(114.0, 30.0, 115.0, 31.0)))
    made = {"420100": city}
    households = {"420105001001": (120, True), "420105001002": (80, True), "420106001001": (300, False)}
    for district, name, box in (("420105", "汉阳区", HANYANG), ("420106", "武昌区", WUCHANG)):
        for level, code, rname, geom, parent in _regions(district, name, box):
            count, estimated = households.get(code, (None, False))
            made[code] = Region.objects.create(code=code, name=rname, level=level, parent=made[parent or "420100"],
                                               households=count, households_estimated=estimated,
                                               **shape_fields(geom))
            if level in ("street", "community"):
                OrgUnit.objects.update_or_create(code=code, defaults={"name": rname, "kind": level,
                                                                      "region_code": code})
    index.bump_version()
    index.invalidate()
    yield made
    index.invalidate()


@pytest.fixture
def reference(geography):
    from cityops.accounts.demo import load_departments, load_roles
    from cityops.cases.demo import load_categories

    load_roles()
    load_departments()
    load_categories()
    return geography


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def centre_staff(make_user, reference):
    """Staff of 汉阳区矛盾纠纷多元化解中心 (a centre unit of the district)."""
    from cityops.accounts.models import OrgUnit

    OrgUnit.objects.update_or_create(code="TJZX-420105", defaults={
        "name": "汉阳区矛盾纠纷多元化解中心", "kind": OrgUnit.Kind.CENTRE, "region_code": "420105"})
    return make_user("t_centre_hy", roles.CENTRE_STAFF, org_units=["TJZX-420105"])


@pytest.fixture
def hy_worker(make_user, reference):
    """A grid worker of 汉阳 东社区."""
    return make_user("t_grid_hy", roles.GRID_WORKER, region_codes=["420105001001"], first_name="王敏")


@pytest.fixture
def wc_worker(make_user, reference):
    return make_user("t_grid_wc", roles.GRID_WORKER, region_codes=["420106001001"])


@pytest.fixture
def campaign(centre_staff):
    from cityops.disputes import campaigns

    today = timezone.localdate()
    return campaigns.campaign_create(
        actor=centre_staff, name="汉阳区矛盾纠纷排查化解百日行动", starts_on=today - timedelta(days=3),
        ends_on=today + timedelta(days=30), region_codes=["420105001"], kinds=["neighbour", "property"],
        goal="每户走访一遍")


def jpeg(size=(64, 48)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (120, 140, 90)).save(out, "JPEG")
    return out.getvalue()


def visit(actor, campaign=None, **kw):
    from cityops.disputes import campaigns

    args = {"client_id": uuid.uuid4(), "place": "青和居 3栋2单元501", "campaign_id": campaign.pk if campaign else None,
            "lon": POINT_HANYANG_A[0], "lat": POINT_HANYANG_A[1]}
    args.update(kw)
    return campaigns.visit_log(actor=actor, **args)


# --- one visit per client_id --------------------------------------------------------------------------------
def test_the_same_client_id_twice_is_one_visit(campaign, hy_worker, api_client_for, media):
    from cityops.disputes.models import Visit

    client = api_client_for(hy_worker)
    client_id = str(uuid.uuid4())
    form = {"client_id": client_id, "campaign_id": campaign.pk, "place": "青和居 3栋2单元501", "people_met": "李阿姨",
            "findings": "", "lon": POINT_HANYANG_A[0], "lat": POINT_HANYANG_A[1]}
    first = client.post("/api/v1/disputes/campaigns/visits", form)
    assert first.status_code == 201, first.content
    # Sent again when the signal came back (even with a changed note): the first visit, 200, nothing doubled.
    again = client.post("/api/v1/disputes/campaigns/visits", {**form, "people_met": "李阿姨和她儿子"})
    assert again.status_code == 200, again.content
    assert again.json()["id"] == first.json()["id"] and again.json()["people_met"] == "李阿姨"
    assert Visit.objects.filter(client_id=client_id).count() == 1
    body = first.json()
    assert body["region"] == {"code": "42010500100101", "name": "东社区01号网格"}
    assert body["campaign"] == campaign.code and body["outcome"] == "nothing"


def test_the_same_client_id_from_the_service_returns_the_first_visit(campaign, hy_worker):
    client_id = uuid.uuid4()
    first = visit(hy_worker, campaign, client_id=client_id)
    second = visit(hy_worker, campaign, client_id=client_id, place="别的地方")
    assert first.created and not second.created and second.visit.pk == first.visit.pk


# --- findings carry the campaign ----------------------------------------------------------------------------
def test_a_finding_that_is_a_dispute_is_registered_with_the_campaign(campaign, hy_worker, api_client_for, media):
    from cityops.core.timeline import timeline_for
    from cityops.disputes.models import Dispute, Visit

    client = api_client_for(hy_worker)
    client_id = str(uuid.uuid4())
    form = {"client_id": client_id, "campaign_id": campaign.pk, "place": "青和居 3栋2单元501",
            "findings": "楼上漏水，两户多次争吵", "outcome": "dispute", "dispute_kind": "neighbour",
            "applicant_name": "张三", "applicant_phone": "13812345678", "respondent_name": "李四",
            "lon": POINT_HANYANG_A[0], "lat": POINT_HANYANG_A[1]}
    answer = client.post("/api/v1/disputes/campaigns/visits", form)
    assert answer.status_code == 201, answer.content
    dispute = Dispute.objects.get(code=answer.json()["dispute"])
    assert dispute.campaign == campaign and dispute.source == "screening"
    assert dispute.kind == "neighbour" and dispute.region_code.startswith("420105")
    assert {p.name for p in dispute.parties.all()} == {"张三", "李四"}
    assert Visit.objects.get(client_id=client_id).dispute == dispute
    assert timeline_for(dispute).exists()
    # Sent again: still one dispute.
    assert client.post("/api/v1/disputes/campaigns/visits", form).status_code == 200
    assert Dispute.objects.filter(campaign=campaign).count() == 1


def test_a_dispute_of_a_type_the_campaign_does_not_focus_on_is_registered_all_the_same(campaign, hy_worker):
    """The campaign looks for neighbour and property disputes; unpaid wages found at a door are not turned away."""
    logged = visit(hy_worker, campaign, outcome="dispute", findings="装修公司拖欠三名工人工资", dispute={
        "kind": "labour", "parties": [{"side": "applicant", "kind": "person", "name": "张三"},
                                      {"side": "respondent", "kind": "organisation", "name": "某装修公司"}]})
    assert logged.visit.dispute.kind == "labour" and logged.visit.dispute.campaign == campaign


def test_a_refused_dispute_leaves_nothing_written(campaign, hy_worker):
    from cityops.core.errors import InvalidInput
    from cityops.disputes.models import Dispute, Visit

    with pytest.raises(InvalidInput) as refused:  # register_dispute's own check: both sides are needed
        visit(hy_worker, campaign, outcome="dispute", findings="欠薪", dispute={
            "kind": "labour", "parties": [{"side": "applicant", "kind": "person", "name": "张三"}]})
    assert refused.value.code == "parties_incomplete"
    assert not Visit.objects.exists() and not Dispute.objects.exists()


def test_a_finding_that_is_a_city_case_names_the_campaign(campaign, hy_worker, media):
    from cityops.cases.models import Case

    logged = visit(hy_worker, campaign, outcome="case", findings="楼道堆放杂物堵塞消防通道",
                   case={"category": "E0101"}, photo=jpeg(), photo_name="corridor.jpg")
    case = Case.objects.get(pk=logged.visit.case_id)
    assert case.description.startswith(f"【排查行动 {campaign.code} {campaign.name}】")
    assert "楼道堆放杂物" in case.description and case.source == "field" and case.region_code.startswith("420105")
    assert case.photos.count() == 1 and logged.visit.photo
    # The phone sends it again: one case, one visit.
    again = visit(hy_worker, campaign, client_id=logged.visit.client_id, outcome="case", findings="x",
                  case={"category": "E0101"})
    assert not again.created and Case.objects.count() == 1


# --- coverage -----------------------------------------------------------------------------------------------
def test_coverage_by_hand(campaign, hy_worker, make_user):
    """户数: 东社区 120 + 西社区 80 = 200 (both estimates, the campaign covers their street). Visits: three
    households (one of them twice, typed once with full-width digits and extra spaces), a shop (a place, not a
    household) → 3 households visited, 3 / 200 = 1.5 %."""
    from cityops.disputes import campaigns

    west = make_user("t_grid_hy_w", roles.GRID_WORKER, region_codes=["420105001002"])
    visit(hy_worker, campaign, place="青和居 3栋2单元501")
    visit(hy_worker, campaign, place="青和居  ３栋2单元５01")  # the same household
    visit(hy_worker, campaign, place="青和居 3栋2单元502", outcome="resolved", findings="停车位纠纷当场调解")
    visit(west, campaign, place="西桥小区 1栋101", lon=POINT_HANYANG_B[0], lat=POINT_HANYANG_B[1])
    visit(hy_worker, campaign, place="好又多超市", place_kind="place")
    figures = campaigns.campaign_figures(campaign)
    assert (figures.households, figures.households_estimated) == (200, True)
    assert figures.visits == 5 and figures.households_visited == 3
    assert figures.coverage == pytest.approx(3 / 200)
    assert figures.resolved_on_the_spot == 1 and figures.cases_found == 0 and figures.disputes_found == 0
    assert figures.per_day == [(timezone.localdate(), 5)]


def test_coverage_unknown_without_household_figures(centre_staff):
    from cityops.disputes import campaigns
    from cityops.geo.models import Region

    Region.objects.filter(code="420105001002").update(households=None)
    today = timezone.localdate()
    c = campaigns.campaign_create(actor=centre_staff, name="西社区排查", starts_on=today, ends_on=today,
                                  region_codes=["420105001002"])
    figures = campaigns.campaign_figures(c)
    assert figures.households is None and figures.coverage is None


def test_a_region_inside_another_is_counted_once(centre_staff):
    from cityops.disputes import campaigns

    today = timezone.localdate()
    c = campaigns.campaign_create(actor=centre_staff, name="重叠区域", starts_on=today, ends_on=today,
                                  region_codes=["420105001001", "420105001", "420105001001"])
    assert c.region_codes == ["420105001"]
    assert campaigns.households_in(c.region_codes) == (200, True)


# --- bad input: coded, bilingual, nothing written -----------------------------------------------------------
def _refused(answer, status, code):
    assert answer.status_code == status, answer.content
    body = answer.json()
    assert body["code"] == code and body["message"] and body["message_en"], body
    return body


@pytest.mark.parametrize(("change", "code"), [
    ({"region_codes": ["420199001"]}, "unknown_region"),
    ({"region_codes": ["abc"]}, "invalid_region_code"),
    ({"ends_on": "2026-01-01", "starts_on": "2026-02-01"}, "ends_before_start"),
    ({"kinds": ["gossip"]}, "unknown_dispute_kind"),
    ({"name": "  "}, "name_required"),
    ({"goal_households": 10**12}, "invalid_input"),
    ({"ends_on": "9999-12-31"}, "invalid_input"),
])
def test_bad_campaigns_are_refused_and_nothing_written(centre_staff, api_client_for, change, code):
    from cityops.disputes.models import Campaign

    body = {"name": "排查", "starts_on": "2026-03-01", "ends_on": "2026-03-31", "region_codes": ["420105001"],
            **change}
    _refused(api_client_for(centre_staff).post("/api/v1/disputes/campaigns", body, content_type="application/json"),
             400, code)
    assert not Campaign.objects.exists()


def test_nul_bytes_are_refused_and_nothing_written(centre_staff, hy_worker, campaign, api_client_for, media):
    from cityops.core.errors import InvalidInput
    from cityops.disputes import campaigns
    from cityops.disputes.models import Campaign, Visit

    raw = ('{"name": "排查\\u0000", "starts_on": "2026-03-01", "ends_on": "2026-03-31", '
           '"region_codes": ["420105001"]}')
    answer = api_client_for(centre_staff).post("/api/v1/disputes/campaigns", raw, content_type="application/json")
    assert answer.status_code == 400 and answer.json()["code"] and answer.json()["message_en"]
    form = {"client_id": str(uuid.uuid4()), "campaign_id": campaign.pk, "place": "青和居\x00501"}
    answer = api_client_for(hy_worker).post("/api/v1/disputes/campaigns/visits", form)
    assert answer.status_code == 400 and answer.json()["message_en"]
    # Called directly (not through the web's edge), the service refuses them too.
    with pytest.raises(InvalidInput) as refused:
        campaigns.visit_log(actor=hy_worker, client_id=uuid.uuid4(), place="青和居\x00501", campaign_id=campaign.pk)
    assert refused.value.code == "invalid_text"
    assert Campaign.objects.count() == 1 and not Visit.objects.exists()


def test_an_oversize_photo_is_refused_and_nothing_written(campaign, hy_worker, api_client_for, media, settings):
    from cityops.disputes.models import Visit

    settings.CITYOPS_MAX_PHOTO_BYTES = 2000
    photo = io.BytesIO(jpeg((400, 400)) + b"\0" * 2000)
    photo.name = "big.jpg"
    form = {"client_id": str(uuid.uuid4()), "campaign_id": campaign.pk, "place": "青和居 3栋2单元501",
            "lon": POINT_HANYANG_A[0], "lat": POINT_HANYANG_A[1], "photo": photo}
    _refused(api_client_for(hy_worker).post("/api/v1/disputes/campaigns/visits", form), 400, "photo_too_large")
    text = io.BytesIO(b"not an image at all")
    text.name = "note.jpg"
    _refused(api_client_for(hy_worker).post("/api/v1/disputes/campaigns/visits", {**form, "photo": text}), 400,
             "invalid_image_type")
    assert not Visit.objects.exists()
    assert not any(p.is_file() for p in (media / "media").rglob("*")) if (media / "media").exists() else True


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"client_id": "not-a-uuid"}, 400, "invalid_input"),
    ({"outcome": "dispute", "findings": "吵架"}, 400, "parties_required"),
    ({"outcome": "case", "findings": "垃圾", "case_category": "ZZZ"}, 400, "unknown_category"),
    ({"outcome": "resolved"}, 400, "findings_required"),
    ({"lon": POINT_WUCHANG[0], "lat": POINT_WUCHANG[1]}, 403, "region_out_of_scope"),
    ({"lon": 10.0, "lat": 10.0}, 422, "outside_city"),
    ({"region_code": "420105999999", "lon": "", "lat": ""}, 400, "unknown_region"),
    ({"visited_at": "2099-01-01T10:00:00+08:00"}, 400, "visit_in_future"),
    ({"campaign_id": 999999}, 404, "campaign_not_found"),
    ({"campaign_id": 10**30}, 400, "invalid_input"),
    ({"lon": "1e308", "lat": "30.55"}, 400, "invalid_coordinates"),
    ({"place_kind": "castle"}, 400, "invalid_place_kind"),
    ({"place": "x" * 201}, 400, "invalid_input"),
])
def test_bad_visits_are_refused_and_nothing_written(campaign, hy_worker, api_client_for, media, change, status, code):
    from cityops.cases.models import Case
    from cityops.disputes.models import Dispute, Visit

    form = {"client_id": str(uuid.uuid4()), "campaign_id": campaign.pk, "place": "青和居 3栋2单元501",
            "lon": POINT_HANYANG_A[0], "lat": POINT_HANYANG_A[1], **change}
    _refused(api_client_for(hy_worker).post("/api/v1/disputes/campaigns/visits", form), status, code)
    assert not Visit.objects.exists() and not Dispute.objects.exists() and not Case.objects.exists()


def test_a_visit_outside_the_campaign_period_or_regions_is_refused(centre_staff, hy_worker, make_user):
    from cityops.core.errors import Unprocessable
    from cityops.disputes import campaigns

    today = timezone.localdate()
    later = campaigns.campaign_create(actor=centre_staff, name="下月行动", starts_on=today + timedelta(days=10),
                                      ends_on=today + timedelta(days=20), region_codes=["420105"])
    with pytest.raises(Unprocessable) as refused:
        visit(hy_worker, later)
    assert refused.value.code == "visit_outside_period"
    west_only = campaigns.campaign_create(actor=centre_staff, name="西社区", starts_on=today, ends_on=today,
                                          region_codes=["420105001002"])
    street_staff = make_user("t_street_hy", roles.REGION_STAFF, region_codes=["420105001"])
    with pytest.raises(Unprocessable) as refused:
        visit(street_staff, west_only)  # 东社区 is the street's, but not the campaign's
    assert refused.value.code == "visit_outside_campaign"


def test_who_may_organise_a_campaign(hy_worker, centre_staff, make_user):
    from cityops.core.errors import Forbidden
    from cityops.disputes import campaigns

    today = timezone.localdate()
    with pytest.raises(Forbidden) as refused:
        campaigns.campaign_create(actor=hy_worker, name="x", starts_on=today, ends_on=today, region_codes=["420105"])
    assert refused.value.code == "role_not_allowed"
    with pytest.raises(Forbidden) as refused:  # the 汉阳 centre organises nothing in 武昌
        campaigns.campaign_create(actor=centre_staff, name="x", starts_on=today, ends_on=today,
                                  region_codes=["420106"])
    assert refused.value.code == "region_out_of_scope"


# --- scope --------------------------------------------------------------------------------------------------
def test_a_grid_worker_sees_the_campaigns_and_visits_of_their_regions(campaign, hy_worker, wc_worker, make_user,
                                                                       api_client_for):
    from cityops.disputes import campaigns

    admin = make_user("t_admin", roles.ADMIN)
    today = timezone.localdate()
    wuchang = campaigns.campaign_create(actor=admin, name="武昌排查", starts_on=today, ends_on=today,
                                        region_codes=["420106"])
    mine = visit(hy_worker, campaign).visit
    theirs = visit(wc_worker, wuchang, lon=POINT_WUCHANG[0], lat=POINT_WUCHANG[1]).visit

    hy, wc = api_client_for(hy_worker), api_client_for(wc_worker)
    assert [c["code"] for c in hy.get("/api/v1/disputes/campaigns").json()] == [campaign.code]
    assert [c["code"] for c in wc.get("/api/v1/disputes/campaigns").json()] == [wuchang.code]
    assert [v["id"] for v in hy.get("/api/v1/disputes/campaigns/visits").json()["items"]] == [mine.pk]
    assert [v["id"] for v in wc.get("/api/v1/disputes/campaigns/visits").json()["items"]] == [theirs.pk]
    _refused(hy.get(f"/api/v1/disputes/campaigns/{wuchang.pk}"), 404, "campaign_not_found")
    _refused(hy.get(f"/api/v1/disputes/campaigns/visits?campaign_id={wuchang.pk}"), 404, "campaign_not_found")
    # A leader reads every campaign; the 汉阳 centre's staff its district's.
    leader = make_user("t_leader", roles.LEADER)
    assert {c["code"] for c in api_client_for(leader).get("/api/v1/disputes/campaigns").json()} == {
        campaign.code, wuchang.code}
    centre = campaigns.campaign_list(user=campaign.created_by)
    assert list(centre) == [campaign]
    # A resident sees none.
    resident = make_user("t_resident", roles.RESIDENT)
    assert api_client_for(resident).get("/api/v1/disputes/campaigns").json() == []
    assert api_client_for(resident).get("/api/v1/disputes/campaigns/visits").json()["items"] == []


def test_the_campaign_api_answers_its_figures(campaign, hy_worker, centre_staff, api_client_for):
    visit(hy_worker, campaign)
    body = api_client_for(centre_staff).get(f"/api/v1/disputes/campaigns/{campaign.pk}").json()
    assert body["code"] == campaign.code and body["regions"] == [{"code": "420105001", "name": "汉阳区一街道"}]
    assert [k["code"] for k in body["kinds"]] == ["neighbour", "property"]
    figures = body["figures"]
    assert figures["households"] == 200 and figures["households_visited"] == 1
    assert figures["coverage"] == pytest.approx(1 / 200)
    assert figures["per_day"] == [[timezone.localdate().isoformat(), 1]]


def test_findings_without_a_position_are_located_to_the_chosen_grid(campaign, hy_worker, media):
    """The phone had no position: the worker chose their grid; the dispute and the case lie in it."""
    from cityops.cases.models import Case

    found = visit(hy_worker, campaign, lon=None, lat=None, region_code="42010500100101", outcome="dispute",
                  findings="邻居装修噪音纠纷", dispute={"kind": "neighbour", "parties": [
                      {"side": "applicant", "kind": "person", "name": "赵六"},
                      {"side": "respondent", "kind": "person", "name": "钱七"}]}).visit
    assert found.lon is None and found.dispute.region_code == "42010500100101"
    reported = visit(hy_worker, campaign, lon=None, lat=None, region_code="42010500100101", outcome="case",
                     findings="路灯不亮", case={"category": "E0101"}).visit
    assert Case.objects.get(pk=reported.case_id).region_code == "42010500100101"
