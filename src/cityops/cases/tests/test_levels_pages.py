"""Four levels (issue 12 §3), on the pages and the API: each level's queue page, the district's dispatch form with
its own units, the level filter of the list, 属地解决率 for those who see every evaluation."""

import pytest
from django.utils import timezone

from cityops.cases import services as s
from cityops.cases.tests.conftest import POINT_WUCHANG_B

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def test_pages_of_each_level(new_case, walk, community_staff, street_staff, district_dispatcher, dispatcher, client):
    case = walk(new_case(), "registered")
    other = walk(new_case(point=POINT_WUCHANG_B), "registered")  # stays at its community
    client.force_login(community_staff)
    page = client.get("/cases/level/").content.decode()
    assert case.code in page and "act-claim" in page and "/cases/level/" in page
    case = s.case_escalate(case=case, actor=community_staff, reason="社区力量不足")
    assert case.code not in client.get("/cases/level/").content.decode()
    client.force_login(street_staff)
    assert case.code in client.get("/cases/level/").content.decode()
    case = s.case_escalate(case=case, actor=street_staff, reason="涉及区级执法")
    client.force_login(dispatcher)
    assert case.code not in client.get("/cases/dispatch/").content.decode()
    listing = client.get("/cases/?level=district").content.decode()
    assert case.code in listing and other.code not in listing
    client.force_login(district_dispatcher)
    page = client.get("/cases/dispatch/").content.decode()
    # The district's own units to dispatch to: its bureaus and its street, no city department, no other district.
    assert case.code in page and 'value="CG-420106"' in page and 'value="420106001"' in page
    assert 'value="CG-420102"' not in page and 'value="HW"' not in page
    detail = client.get(f"/cases/{case.code}/").content.decode()
    assert 'value="CG-420106"' in detail and 'value="HW"' not in detail
    response = client.post(f"/cases/{case.code}/act/dispatch/", {"department": "CG-420106"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.level, case.lead_department.code) == ("dispatched", "district", "CG-420106")


def test_api_level_resolution_for_those_who_see_every_evaluation(api_client_for, leader, dispatcher, reference):
    url = f"/api/v1/levels/resolution?from={TODAY}&to={TODAY}&region=420106"
    body = api_client_for(leader).get(url).json()
    assert [row["level"] for row in body["rows"]] == ["community", "street", "district", "city"]
    assert api_client_for(dispatcher).get(url).status_code == 403
    assert api_client_for(leader).get(f"/api/v1/levels/resolution?from={TODAY}&to={TODAY}&region=x").status_code == 400




def test_api_case_answer_shows_its_levels(api_client_for, new_case, walk, district_dispatcher, community_staff,
                                         street_staff):
    case = walk(new_case(), "registered")
    case = s.case_escalate(case=s.case_escalate(case=case, actor=community_staff, reason="社区力量不足"),
                           actor=street_staff, reason="涉及区级执法")
    client = api_client_for(district_dispatcher)
    body = client.post(f"/api/v1/cases/{case.code}/dispatch", {"department": "420106001"},
                       content_type="application/json").json()
    assert (body["level"], body["dispatched_level"], body["resolved_level"]) == ("street", "district", "")
    assert client.get("/api/v1/cases?level=street").json()["count"] == 1
