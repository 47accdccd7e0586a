"""The API as each part uses it, and bad input refused with a code (never a 500, nothing written)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from cityops.stability.models import Comment, Decision, Risk
from cityops.stability.tests.conftest import AREA, ASSESSING, PROPOSING, STREET

pytestmark = pytest.mark.django_db
BASE = "/api/v1/stability"


def post(client, url, body, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def test_a_decision_through_the_api(api_client_for, area_regions, proposer, assessor, decider, resident, clock):
    start = clock(timezone.now().replace(year=2026, month=3, day=2, hour=9, minute=0))
    as_proposer, as_assessor = api_client_for(proposer), api_client_for(assessor)
    r = post(as_proposer, f"{BASE}/decisions", {"title": "鹦鹉片区旧城改造征收", "description": "征收 320 户",
                                                "proposing_unit": PROPOSING, "assessing_unit": ASSESSING,
                                                "region_code": STREET, "area": AREA})
    assert r.status_code == 201, r.content
    d = r.json()
    assert (d["state"], d["proposing_unit_name"], d["area"]["type"]) == ("proposed", "汉阳区房屋征收管理办公室", "Polygon")
    url = f"{BASE}/decisions/{d['id']}"
    assert post(as_assessor, f"{url}/scope", {"scope": "征收范围与补偿方案"}).json()["state"] == "scoped"
    r = post(as_assessor, f"{url}/risks", {"dimension": "controllability", "description": "群体性上访",
                                           "likelihood": 3, "impact": 5, "mitigation": "一户一策"})
    assert r.status_code == 201 and r.json()["score"] == 15 and r.json()["level"] == "high"
    assert post(as_assessor, f"{url}/identify_risks", {}).json()["state"] == "risks_identified"
    r = post(as_assessor, f"{url}/open_consultation", {"ends_on": str(start.date() + timedelta(days=29))})
    assert (r.status_code, r.json()["code"]) == (400, "comment_period_too_short")
    assert "30" in r.json()["message"] and "30" in r.json()["message_en"]
    r = post(as_assessor, f"{url}/open_consultation", {"ends_on": str(start.date() + timedelta(days=30))})
    assert r.json()["state"] == "consultation" and r.json()["consultation_ends_on"] == str(start.date() + timedelta(days=30))

    as_resident = api_client_for(resident)
    r = post(as_resident, f"{url}/comments", {"stance": "oppose", "text": "补偿标准偏低，希望提高"})
    assert r.status_code == 201 and r.json()["status"] == "pending"
    assert as_resident.get(f"{url}/comments").json() == []  # pending: not shown
    cid = r.json()["id"]
    r = post(as_assessor, f"{url}/comments/{cid}/moderate", {"approve": True})
    assert r.json()["status"] == "approved"
    shown = as_resident.get(f"{url}/comments").json()
    assert [c["id"] for c in shown] == [cid] and "赵" not in shown[0]["author"]
    assert as_resident.get(url).json()["comments"] == {"support": 0, "oppose": 1, "neutral": 0, "total": 1}

    r = post(as_assessor, f"{url}/assess", {"level": "high", "summary": "风险较高"})
    assert (r.status_code, r.json()["code"]) == (409, "too_early")
    clock(start + timedelta(days=31))
    assert post(as_assessor, f"{url}/assess", {"level": "high", "summary": "风险较高"}).json()["level"] == "high"
    assert post(as_assessor, f"{url}/submit_review", {}).json()["state"] == "legality_review"
    as_decider = api_client_for(decider)
    r = post(as_decider, f"{url}/decide", {"outcome": "do_not_implement"})
    assert (r.status_code, r.json()["code"]) == (409, "too_early")
    clock(start + timedelta(days=50))
    r = post(as_decider, f"{url}/decide", {"outcome": "implement"})
    assert (r.status_code, r.json()["code"]) == (409, "high_risk_not_implemented")
    assert post(as_decider, f"{url}/decide", {"outcome": "do_not_implement"}).json()["outcome"] == "do_not_implement"
    timeline = as_assessor.get(f"{url}/timeline").json()
    assert [e["action"] for e in timeline][-3:] == ["assess", "submit_review", "decide"]
    assert as_resident.get(f"{url}/timeline").status_code == 403


def test_bad_input_is_refused_with_a_code(api_client_for, walk, proposer, assessor):
    d = walk("scoped")
    as_proposer, as_assessor = api_client_for(proposer), api_client_for(assessor)
    good = {"title": "票价调整", "description": "轮渡票价由 1.5 元调整为 2 元", "proposing_unit": PROPOSING,
            "assessing_unit": ASSESSING, "region_code": STREET}
    before = Decision.objects.count()
    for change, status, code in (
        ({"area": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}}, 400, "invalid_geojson"),
        ({"area": {"type": "Polygon", "coordinates": "x"}}, 400, "invalid_geojson"),
        ({"area": {"type": "Polygon", "coordinates": [[[500, 0], [501, 1], [500, 1], [500, 0]]]}}, 400, "invalid_geojson"),
        ({"region_code": "110101"}, 400, "unknown_region"),
        ({"proposing_unit": "NOPE"}, 400, "unknown_unit"),
        ({"title": "x" * 300}, 400, "too_long"),
        ({"title": 12}, 400, "invalid_input"),
    ):
        r = post(as_proposer, f"{BASE}/decisions", {**good, **change})
        assert (r.status_code, r.json()["code"]) == (status, code), (change, r.content)
    r = as_proposer.post(f"{BASE}/decisions", data=json.dumps(good, ensure_ascii=False).replace('"票', '"\\u0000票'),
                         content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (400, "invalid_characters")
    r = as_proposer.post(f"{BASE}/decisions", data="title=x", content_type="application/x-www-form-urlencoded")
    assert (r.status_code, r.json()["code"]) == (415, "unsupported_media_type")
    assert Decision.objects.count() == before

    url = f"{BASE}/decisions/{d.pk}"
    for body, code in (({"dimension": "security", "description": "x", "likelihood": 10**30, "impact": 1}, None),
                       ({"dimension": "security", "description": "x", "likelihood": 0, "impact": 1}, "invalid_likelihood"),
                       ({"dimension": "mood", "description": "x", "likelihood": 1, "impact": 1}, "unknown_dimension"),
                       ({"dimension": "security", "description": "", "likelihood": 1, "impact": 1}, "description_required")):
        r = post(as_assessor, f"{url}/risks", body)
        assert r.status_code == 400 and (code is None or r.json()["code"] == code), r.content
    assert not Risk.objects.filter(decision=d, dimension="security").exists()
    assert as_assessor.get(f"{BASE}/decisions/99999999999").status_code == 404
    assert as_assessor.get(f"{BASE}/decisions/{2**70}").status_code in (400, 404)
    r = post(as_assessor, f"{url}/open_consultation", {"ends_on": "9999-01-01"})
    assert r.status_code == 400  # wrong state is checked after the input: a date no calendar holds is bad input


def test_comments_are_rate_limited_and_validated(api_client_for, walk, resident, settings):
    settings.CITYOPS_STABILITY_COMMENTS_PER_HOUR = 2
    d = walk("consultation")
    client = api_client_for(resident)
    url = f"{BASE}/decisions/{d.pk}/comments"
    assert post(client, url, {"stance": "maybe", "text": "我有意见要说"}).json()["code"] == "unknown_stance"
    assert post(client, url, {"stance": "support", "text": "好"}).json()["code"] == "text_too_short"
    assert post(client, url, {"stance": "support", "text": "支持改造，早日实施"}).status_code == 201
    assert post(client, url, {"stance": "neutral", "text": "希望公布安置房选址"}).status_code == 201
    r = post(client, url, {"stance": "support", "text": "再次表示支持改造"})
    assert (r.status_code, r.json()["code"]) == (429, "rate_limited")
    assert Comment.objects.filter(decision=d).count() == 2
