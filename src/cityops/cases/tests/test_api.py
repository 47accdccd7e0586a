"""The API: intake, actions, errors, and the role × endpoint scoping matrix (selectors and API alike)."""

import json

import pytest

from cityops.cases import services as s
from cityops.cases.selectors import case_get, case_list
from cityops.cases.tests.conftest import POINT_JIANGAN, POINT_WUCHANG_A
from cityops.core import roles
from cityops.core.errors import NotFound

pytestmark = pytest.mark.django_db


def post(client, url, body=None, **headers):
    return client.post(url, json.dumps(body or {}), content_type="application/json", **headers)


def test_post_case_201_and_idempotency(reference, operator, api_client_for):
    c = api_client_for(operator)
    body = {"category": "E0101", "lon": POINT_WUCHANG_A[0], "lat": POINT_WUCHANG_A[1], "description": "垃圾",
            "reporter_phone": "13812345678"}
    r = post(c, "/api/v1/cases", body, HTTP_IDEMPOTENCY_KEY="abc")
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["state"] == "reported" and data["code"].startswith("2026420106") or data["code"][4:10] == "420106"
    assert data["regions"]["grid"]["code"] == "42010600100101"
    assert data["proposed_department"] == "HW" and data["deadline_at"] and data["proposed_handle_limit_wh"] == 4
    assert data["reporter_phone"] == "13812345678"
    again = post(c, "/api/v1/cases", body, HTTP_IDEMPOTENCY_KEY="abc")
    assert again.status_code == 200 and again.json()["code"] == data["code"]
    dup = post(c, "/api/v1/cases", body)
    assert dup.status_code == 201 and [d["code"] for d in dup.json()["duplicates"]] == [data["code"]]
    # The intake answer is rendered without validation: hold it to its documented schema, field for field.
    from cityops.cases.api import CaseCreatedOut, DuplicateOut

    for answer in (data, again.json(), dup.json()):
        assert set(answer) == set(CaseCreatedOut.model_fields)
        assert CaseCreatedOut.model_validate(answer).code == answer["code"]
    assert set(dup.json()["duplicates"][0]) == set(DuplicateOut.model_fields)
    assert dup.json()["duplicates"][0]["distance_m"] == 0.0


def test_post_case_by_address(reference, operator, api_client_for):
    r = post(api_client_for(operator), "/api/v1/cases",
             {"category": "E0101", "address": "武昌区一街道东社区", "description": "x"})
    assert r.status_code == 201, r.content
    assert r.json()["regions"]["district"]["code"] == "420106"


def test_bad_input_answers(reference, operator, api_client_for):
    c = api_client_for(operator)
    r = post(c, "/api/v1/cases", {"category": "E0101", "lon": 116.4, "lat": 39.9, "description": "x"})
    assert r.status_code == 422 and r.json()["code"] == "outside_city"
    r = post(c, "/api/v1/cases", {"category": "NOPE", "lon": 114.31, "lat": 30.55, "description": "x"})
    assert r.status_code == 400 and r.json()["code"] == "unknown_category" and r.json()["message_en"]
    r = post(c, "/api/v1/cases", {"lon": 114.31})
    assert r.status_code == 400 and r.json()["code"] == "invalid_input"


def test_actions_over_http(new_case, operator, dispatcher, handler_hw, handler_cg, grid_worker, shift_lead, api_client_for):
    code = new_case().code
    op, disp, hw, cg = (api_client_for(u) for u in (operator, dispatcher, handler_hw, handler_cg))
    assert post(op, f"/api/v1/cases/{code}/register").json()["state"] == "registered"
    r = post(op, f"/api/v1/cases/{code}/register")
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    r = post(op, f"/api/v1/cases/{code}/dispatch", {"department": "HW"})
    assert r.status_code == 403 and r.json()["code"] == "role_not_allowed"
    assert post(disp, f"/api/v1/cases/{code}/dispatch", {"department": "HW", "assisting": ["CG"]}).status_code == 200
    assert post(cg, f"/api/v1/cases/{code}/accept").status_code == 403  # sees it (assists), may not accept
    assert post(hw, f"/api/v1/cases/{code}/accept").json()["state"] == "accepted"
    r = post(hw, f"/api/v1/cases/{code}/handle", {"result": "ok"})
    assert r.status_code == 409 and r.json()["code"] == "tasks_open"
    tasks = hw.get(f"/api/v1/cases/{code}/tasks").json()
    assert post(cg, f"/api/v1/cases/{code}/tasks/{tasks[0]['id']}/done", {"result": "done"}).json()["state"] == "done"
    assert post(hw, f"/api/v1/cases/{code}/extend_request", {"extra_hours": 4, "reason": "材料"}).json()["state"] == "extension_requested"
    assert post(disp, f"/api/v1/cases/{code}/extend_approve").json()["counters"]["extensions"] == 1
    assert post(hw, f"/api/v1/cases/{code}/handle", {"result": "ok"}).json()["state"] == "handled"
    gw = api_client_for(grid_worker)
    assert post(gw, f"/api/v1/cases/{code}/rework", {"reason": "没清干净"}).json()["state"] == "accepted"
    assert post(hw, f"/api/v1/cases/{code}/handle", {"result": "ok2"}).json()["state"] == "handled"
    assert post(gw, f"/api/v1/cases/{code}/verify").json()["state"] == "verified"
    assert post(api_client_for(shift_lead), f"/api/v1/cases/{code}/close").json()["state"] == "closed"
    assert post(op, f"/api/v1/cases/{code}/follow_up").json()["state"] == "archived"
    timeline = op.get(f"/api/v1/cases/{code}/timeline").json()
    assert [e["action"] for e in timeline][:3] == ["report", "register", "dispatch"]
    assert post(op, f"/api/v1/cases/{code}/teleport").status_code in (404, 405)


def test_if_match_acts_only_on_the_version_seen(new_case, operator, dispatcher, api_client_for):
    """Optimistic concurrency: GET gives the version as ETag; an action sent with If-Match applies only if
    nobody changed the case since (else 412 stale_version, nothing written)."""
    from cityops.cases.api import CaseOut
    from cityops.core.timeline import timeline_for

    case = new_case()
    op, disp = api_client_for(operator), api_client_for(dispatcher)
    seen = op.get(f"/api/v1/cases/{case.code}")
    etag = seen["ETag"]
    assert etag == f'"{seen.json()["version"]}"'
    # Someone else registers it first; the dispatcher's own view (etag) is now stale.
    registered = post(op, f"/api/v1/cases/{case.code}/register", HTTP_IF_MATCH=etag)
    assert registered.status_code == 200 and registered["ETag"] != etag
    assert set(registered.json()) == set(CaseOut.model_fields) and CaseOut.model_validate(registered.json())
    entries = timeline_for(case).count()
    r = post(disp, f"/api/v1/cases/{case.code}/dispatch", {"department": "HW"}, HTTP_IF_MATCH=etag)
    assert r.status_code == 412 and r.json()["code"] == "stale_version"
    assert r.json()["details"] == {"expected": int(etag.strip('"')), "current": registered.json()["version"]}
    assert "message_en" in r.json() and timeline_for(case).count() == entries  # nothing written
    # With the current ETag (weak or not) it goes through; `*` and no header expect nothing.
    r = post(disp, f"/api/v1/cases/{case.code}/dispatch", {"department": "HW"}, HTTP_IF_MATCH="W/" + registered["ETag"])
    assert r.status_code == 200 and r.json()["state"] == "dispatched"
    r = post(disp, f"/api/v1/cases/{case.code}/dispatch", {"department": "HW"}, HTTP_IF_MATCH="*")
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    r = post(op, f"/api/v1/cases/{case.code}/register", HTTP_IF_MATCH="yesterday")
    assert r.status_code == 400 and r.json()["code"] == "invalid_if_match"


def test_list_filters_and_pagination(new_case, operator, api_client_for):
    for _ in range(3):
        new_case()
    new_case(point=POINT_JIANGAN)
    c = api_client_for(operator)
    data = c.get("/api/v1/cases?district=420106&limit=2").json()
    assert data["count"] == 3 and len(data["items"]) == 2
    assert c.get("/api/v1/cases?state=registered").json()["count"] == 0
    assert c.get("/api/v1/cases?from=2000-01-01&to=2100-01-01").json()["count"] == 4
    assert c.get("/api/v1/cases?from=notadate").status_code == 400


def test_categories(reference, resident, api_client_for):
    data = api_client_for(resident).get("/api/v1/categories").json()
    assert "E0101" in {c["code"] for c in data} and len(data) == 38


# --- scoping matrix -----------------------------------------------------------------------------------
@pytest.fixture
def world(reference, operator, dispatcher, resident, make_user, walk):
    """Case A: HW leads in Wuchang (reported by the resident). Case B: CG leads in Jiang'an."""
    a = s.case_create(actor=resident, category="E0101", lon=POINT_WUCHANG_A[0], lat=POINT_WUCHANG_A[1], description="A").case
    a = s.case_register(case=a, actor=operator)
    a = s.case_dispatch(case=a, actor=dispatcher, department="HW")
    b = s.case_create(actor=operator, category="E0401", lon=POINT_JIANGAN[0], lat=POINT_JIANGAN[1], description="B").case
    b = s.case_register(case=b, actor=operator)
    b = s.case_dispatch(case=b, actor=dispatcher, department="CG")
    return a, b


MATRIX = {
    # user fixture → (sees A, sees B)
    "operator": (True, True),
    "dispatcher": (True, True),
    "leader": (True, True),
    "handler_hw": (True, False),
    "handler_cg": (False, True),
    "grid_worker": (True, False),  # region 420106
    "grid_worker_b": (False, True),  # region 420102
    "resident": (True, False),  # reported A only
    "community_staff": (True, False),
}


@pytest.mark.parametrize("who", list(MATRIX))
def test_scoping_matrix_selectors_and_api(request, world, who, api_client_for):
    user = request.getfixturevalue(who)
    a, b = world
    expected = MATRIX[who]
    visible = set(case_list(user=user).values_list("code", flat=True))
    assert ((a.code in visible), (b.code in visible)) == expected
    client = api_client_for(user)
    listed = {c["code"] for c in client.get("/api/v1/cases?limit=200").json()["items"]}
    assert listed == visible
    for case, seen in zip((a, b), expected, strict=True):
        r = client.get(f"/api/v1/cases/{case.code}")
        assert r.status_code == (200 if seen else 404)
        assert client.get(f"/api/v1/cases/{case.code}/timeline").status_code == (200 if seen else 404)
        if not seen:
            with pytest.raises(NotFound):
                case_get(user=user, code=case.code)
            # acting on an unseen case is 404, never 403: existence does not leak
            assert post(client, f"/api/v1/cases/{case.code}/accept").status_code == 404


def test_assisting_department_sees_the_case(world, dispatcher, handler_cg, operator):
    a, _b = world
    a2 = s.case_create(actor=operator, category="E0101", lon=POINT_WUCHANG_A[0], lat=POINT_WUCHANG_A[1], description="C").case
    a2 = s.case_register(case=a2, actor=operator)
    a2 = s.case_dispatch(case=a2, actor=dispatcher, department="HW", assisting=["CG"])
    assert a2 in case_list(user=handler_cg)


def test_resident_sees_masked_nothing_of_others_and_own_phone(reference, resident, make_user, operator, dispatcher,
                                                             api_client_for, handler_hw):
    """cases/privacy.py: the reporter sees their own callback phone in full; a resident sees no other resident's
    case at all (not found, not listed), and on their own case no account link of theirs; staff who do not call
    back see the phone masked."""
    neighbour = make_user("t_resident_2", roles.RESIDENT)
    here = {"category": "E0101", "lon": POINT_WUCHANG_A[0], "lat": POINT_WUCHANG_A[1]}
    own = s.case_create(actor=resident, description="我家楼下的垃圾", reporter_phone="13812345678", **here).case
    theirs = s.case_create(actor=neighbour, description="邻居反映的垃圾", reporter_phone="13900001111", **here).case
    for case in (own, theirs):
        s.case_dispatch(case=s.case_register(case=case, actor=operator), actor=dispatcher, department="HW")

    client = api_client_for(resident)
    mine = client.get(f"/api/v1/cases/{own.code}")
    assert mine.status_code == 200
    assert (mine.json()["reporter"], mine.json()["reporter_phone"]) == ("市民", "13812345678")
    timeline = client.get(f"/api/v1/cases/{own.code}/timeline").json()
    assert timeline and all("reporter_id" not in entry["params"] for entry in timeline)
    assert client.get(f"/api/v1/cases/{theirs.code}").status_code == 404
    assert client.get(f"/api/v1/cases/{theirs.code}/timeline").status_code == 404
    assert {c["code"] for c in client.get("/api/v1/cases?limit=200").json()["items"]} == {own.code}

    staff = api_client_for(handler_hw)
    assert staff.get(f"/api/v1/cases/{own.code}").json()["reporter_phone"] == "138****5678"
    assert staff.get(f"/api/v1/cases/{theirs.code}").json()["reporter_phone"] == "139****1111"


def test_evaluation_endpoint_roles_and_formats(world, leader, resident, api_client_for):
    c = api_client_for(leader)
    r = c.get("/api/v1/evaluation/departments?from=2000-01-01&to=2100-01-01")
    assert r.status_code == 200 and {row["department"] for row in r.json()["rows"]} == {"HW", "CG"}
    assert c.get("/api/v1/evaluation/departments?from=2000-01-01&to=2100-01-01&format=csv").content.startswith("\ufeff".encode())
    x = c.get("/api/v1/evaluation/dispatchers?from=2000-01-01&to=2100-01-01&format=xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"
    assert c.get("/api/v1/evaluation/regions?from=2000-01-01&to=2100-01-01&level=street").status_code == 200
    assert c.get("/api/v1/evaluation/nope?from=2000-01-01&to=2100-01-01").status_code == 404
    assert api_client_for(resident).get("/api/v1/evaluation/departments?from=2000-01-01&to=2100-01-01").status_code == 403


def test_photo_upload_and_consultation_over_http(new_case, walk, operator, dispatcher, handler_hw, api_client_for,
                                                 tmp_path, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cityops.cases.tests.test_photos import jpeg_bytes

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DATA_DIR = tmp_path
    case = walk(new_case(), "accepted")
    hw = api_client_for(handler_hw)
    r = hw.post(f"/api/v1/cases/{case.code}/photos", {"file": SimpleUploadedFile("a.jpg", jpeg_bytes(True)), "kind": "handled"})
    assert r.status_code == 201 and r.json()["content_type"] == "image/jpeg"
    r = hw.post(f"/api/v1/cases/{case.code}/photos", {"file": SimpleUploadedFile("a.gif", b"GIF89a"), "kind": "handled"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_image_type"
    c = api_client_for(operator)
    r = c.post(f"/api/v1/cases/{case.code}/photos", {"file": SimpleUploadedFile("a.jpg", jpeg_bytes()), "kind": "report"})
    assert r.status_code == 409 and r.json()["code"] == "photo_wrong_step"  # report photos come before dispatch
    body = {"meeting_at": "2026-11-26T10:00:00+08:00", "topic": "联办", "participants": ["HW", "CG"],
            "decisions": [{"department": "CG", "text": "清理", "limit_hours": 8}]}
    assert post(c, f"/api/v1/cases/{case.code}/consult", body).status_code == 403
    r = post(api_client_for(dispatcher), f"/api/v1/cases/{case.code}/consult", body)
    assert r.status_code == 201 and len(r.json()["tasks"]) == 1


def test_department_queue_is_what_my_units_lead(world, handler_hw, handler_cg, dispatcher, resident, api_client_for):
    from cityops.cases.selectors import department_queue

    a, b = world
    assert list(department_queue(user=handler_hw)) == [a]
    assert list(department_queue(user=handler_cg)) == [b]
    assert set(department_queue(user=dispatcher)) == {a, b}
    assert [c.code for c in department_queue(user=dispatcher, department="CG")] == [b.code]
    assert not department_queue(user=resident).exists()
    data = api_client_for(handler_hw).get("/api/v1/cases?queue=department").json()
    assert [c["code"] for c in data["items"]] == [a.code]
    # Membership of a unit alone opens neither its queue nor its assisting tasks: the queue stays inside the
    # user's scope (a resident listed under CG, which leads B, still sees only A, their own report).
    from cityops.cases.selectors import assisting_tasks

    resident.org_units.add(b.lead_department)
    resident.__dict__.pop("org_unit_ids", None)
    assert not department_queue(user=resident).exists()
    assert assisting_tasks(user=resident) == []
    assert api_client_for(resident).get("/api/v1/cases?queue=department").json()["items"] == []
