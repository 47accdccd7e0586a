"""The case pages per role: status codes, scoping (outside the scope a case page is a 404), every action form
through its service, inline (htmx) actions, intake with photos and self-handling, evaluation export."""

import io

import pytest
from django.test import Client

from cityops.cases.models import Case, CaseTask
from cityops.cases.tests.conftest import POINT_JIANGAN, POINT_WUCHANG_A
from cityops.core import roles

pytestmark = pytest.mark.django_db


def client_for(user, language: str = "zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def jpeg(colour=(200, 60, 60)) -> io.BytesIO:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buffer, "JPEG")
    buffer.seek(0)
    buffer.name = "scene.jpg"
    return buffer


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def act(client, case, action, **data):
    return client.post(f"/cases/{case.code}/act/{action}/", data, follow=True)


# --- every role reaches its pages ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "urls"),
    [
        ("operator", ["/cases/", "/cases/new/", "/cases/?state=reported", "/cases/evaluation/"]),
        ("shift_lead", ["/cases/approvals/", "/cases/?state=verified"]),
        ("dispatcher", ["/cases/?state=registered", "/cases/dispatch/", "/cases/approvals/"]),
        ("handler_hw", ["/cases/queue/", "/cases/"]),
        ("grid_worker", ["/cases/tasks/", "/cases/new/"]),
        ("leader", ["/cases/evaluation/", "/cases/", "/cases/?overdue=1"]),
        ("resident", ["/cases/"]),
    ],
)
def test_role_pages_answer(request, reference, who, urls):
    client = client_for(request.getfixturevalue(who))
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_home_cards_all_lead_somewhere(reference, make_user):
    from cityops.core.home import home_cards

    for code in roles.ALL_ROLES:
        user = make_user(f"t_cards_{code}", code, org_units=["HW"] if code in (roles.DEPT_HANDLER, roles.DEPT_LEAD) else [])
        client = client_for(user)
        for card in home_cards(user):
            assert client.get(card.url).status_code == 200, (code, card.url)


def test_pages_need_login(reference):
    assert Client().get("/cases/").status_code == 302
    assert Client().get("/cases/queue/").status_code == 302


def test_evaluation_is_for_staff_each_what_they_may_see(reference, handler_hw, grid_worker, resident, make_user):
    # RULES.md §1 "Who sees evaluation" (tests/test_evaluation_visibility.py has the rows): the department's people
    # open the department ranking, every staff member their own row; residents nothing.
    assert client_for(handler_hw).get("/cases/evaluation/").status_code == 200
    assert client_for(handler_hw).get("/cases/evaluation/", {"kind": "regions"}).status_code == 403
    assert client_for(grid_worker).get("/cases/evaluation/export.csv").status_code == 200
    assert client_for(grid_worker).get("/cases/evaluation/export.csv", {"kind": "departments"}).status_code == 403
    assert client_for(resident).get("/cases/evaluation/").status_code == 403
    lead = make_user("t_dept_lead", roles.DEPT_LEAD, org_units=["HW"])
    assert client_for(lead).get("/cases/evaluation/").status_code == 200


def test_intake_is_refused_to_roles_that_do_not_report(reference, handler_hw, leader):
    assert client_for(handler_hw).get("/cases/new/").status_code == 403
    assert client_for(leader).get("/cases/new/").status_code == 403


# --- scoping -----------------------------------------------------------------------------------------------
def test_a_department_never_sees_another_departments_case(new_case, walk, handler_hw, handler_cg):
    case = walk(new_case(), "dispatched")  # dispatched to HW
    assert client_for(handler_hw).get(f"/cases/{case.code}/").status_code == 200
    cg = client_for(handler_cg)
    assert cg.get(f"/cases/{case.code}/").status_code == 404
    assert cg.post(f"/cases/{case.code}/act/accept/", {}).status_code == 404
    assert cg.post(f"/cases/{case.code}/photos/", {"photos": jpeg()}).status_code == 404
    assert case.code not in cg.get("/cases/").content.decode()
    assert case.code not in cg.get("/cases/queue/").content.decode()
    assert case.code in client_for(handler_hw).get("/cases/queue/").content.decode()
    Case.objects.get(pk=case.pk).state == "dispatched"


def test_grid_worker_and_resident_scopes(new_case, walk, grid_worker, grid_worker_b, resident, operator):
    case = walk(new_case(), "handled")
    assert client_for(grid_worker).get(f"/cases/{case.code}/").status_code == 200
    assert case.code in client_for(grid_worker).get("/cases/tasks/").content.decode()
    assert client_for(grid_worker_b).get(f"/cases/{case.code}/").status_code == 404
    assert case.code not in client_for(grid_worker_b).get("/cases/tasks/").content.decode()
    assert client_for(resident).get(f"/cases/{case.code}/").status_code == 404
    own = new_case(actor=resident, description="楼下有垃圾")
    assert client_for(resident).get(f"/cases/{own.code}/").status_code == 200


def test_phone_is_masked_for_departments_and_whole_for_intake(new_case, walk, operator, handler_hw):
    case = walk(new_case(reporter_phone="13812345678"), "dispatched")
    assert "13812345678" in client_for(operator).get(f"/cases/{case.code}/").content.decode()
    page = client_for(handler_hw).get(f"/cases/{case.code}/").content.decode()
    assert "13812345678" not in page and "138****5678" in page


# --- intake --------------------------------------------------------------------------------------------------
def test_operator_intake_with_photo_then_duplicate_suggested(reference, operator):
    client = client_for(operator)
    data = {"category": "E0101", "lon": POINT_WUCHANG_A[0], "lat": POINT_WUCHANG_A[1], "description": "路口暴露垃圾",
            "urgency": "normal", "source": "hotline", "reporter_phone": "13900001111"}
    response = client.post("/cases/new/", {**data, "photos": [jpeg(), jpeg((0, 90, 0))]})
    assert response.status_code == 302
    first = Case.objects.get()
    assert response["Location"] == f"/cases/{first.code}/?new=1"
    assert first.state == "reported" and first.source == "hotline" and first.photos.count() == 2
    response = client.post("/cases/new/", {**data, "lon": POINT_WUCHANG_A[0] + 0.0003}, follow=True)
    second = Case.objects.exclude(pk=first.pk).get()
    page = response.content.decode()
    assert "可能重复的案件" in page and first.code in page
    response = act(client, second, "merge", into=first.code)
    assert Case.objects.get(pk=second.pk).state == "merged"
    assert Case.objects.get(pk=first.pk).merged_reports == 1


def test_intake_refusal_is_shown_in_the_form(reference, operator):
    client = client_for(operator)
    response = client.post("/cases/new/", {"category": "E0101", "description": "无位置", "urgency": "normal"})
    assert response.status_code == 200
    assert "请提供坐标或地址" in response.content.decode()
    assert not Case.objects.exists()
    response = client_for(operator, "en").post("/cases/new/", {"category": "E0101", "description": "x", "urgency": "normal"})
    assert "Give either lon/lat or an address" in response.content.decode()


def test_bad_photo_leaves_no_case_behind(reference, grid_worker):
    bad = io.BytesIO(b"not an image at all")
    bad.name = "x.jpg"
    response = client_for(grid_worker).post("/cases/new/", {
        "category": "E0101", "lon": POINT_WUCHANG_A[0], "lat": POINT_WUCHANG_A[1], "description": "井盖缺失",
        "urgency": "normal", "photos": [bad]})
    assert response.status_code == 200
    assert "只接受 JPEG、PNG 或 WebP 图片" in response.content.decode()
    assert not Case.objects.exists()


def test_grid_worker_self_handles_on_the_spot(reference, grid_worker):
    client = client_for(grid_worker)
    base = {"category": "E0101", "lon": POINT_WUCHANG_A[0], "lat": POINT_WUCHANG_A[1], "description": "小广告",
            "urgency": "normal", "self_handle": "on", "self_handle_result": "已当场清除"}
    response = client.post("/cases/new/", base)
    assert response.status_code == 200 and "自处理需要上传现场照片" in response.content.decode()
    response = client.post("/cases/new/", {**base, "photos": [jpeg()]})
    case = Case.objects.get()
    assert response.status_code == 302
    assert case.state == "verified" and case.self_handled and case.source == "field" and case.reporter == grid_worker


def test_no_self_handling_outside_the_workers_grid_from_the_form(reference, grid_worker):
    client = client_for(grid_worker, "en")
    data = {"category": "E0101", "lon": POINT_JIANGAN[0], "lat": POINT_JIANGAN[1], "description": "小广告",
            "urgency": "normal", "self_handle": "on", "self_handle_result": "已当场清除", "photos": [jpeg()]}
    response = client.post("/cases/new/", data)
    assert response.status_code == 200 and "only inside your own grid" in response.content.decode()
    assert not Case.objects.exists()  # all or nothing; without self-handling the report goes in as usual
    response = client.post("/cases/new/", {**data, "self_handle": "", "photos": [jpeg()]})
    assert response.status_code == 302 and Case.objects.get().state == "reported"


def test_intake_form_takes_an_anonymous_report(reference, operator, resident, grid_worker):
    """The caller (operator's form) or the resident (their own form) may stay anonymous; a grid worker reports as
    themselves (issue 10 §3)."""
    data = {"category": "E0101", "lon": POINT_WUCHANG_A[0], "lat": POINT_WUCHANG_A[1], "description": "噪音扰民",
            "urgency": "normal", "anonymous": "on"}
    for who in (operator, resident):
        assert 'name="anonymous"' in client_for(who).get("/cases/new/").content.decode()
        assert client_for(who).post("/cases/new/", {**data, "source": "hotline"}).status_code == 302
    assert list(Case.objects.values_list("anonymous", flat=True)) == [True, True]
    assert 'name="anonymous"' not in client_for(grid_worker).get("/cases/new/").content.decode()


def test_too_many_photos_refused_by_the_form(reference, operator):
    response = client_for(operator).post("/cases/new/", {
        "category": "E0101", "lon": POINT_WUCHANG_A[0], "lat": POINT_WUCHANG_A[1], "description": "x",
        "urgency": "normal", "photos": [jpeg() for _ in range(10)]})
    assert response.status_code == 200 and "最多上传 9 张照片" in response.content.decode()


def test_address_search(reference, operator):
    client = client_for(operator)
    missing = client.get("/cases/locate/", {"q": "火星基地"})
    assert missing.status_code == 404 and missing.json()["found"] is False
    assert missing.json()["code"] == "address_not_found" and missing.json()["message_en"].startswith("Address not")
    body = client.get("/cases/locate/", {"q": "武昌区东社区"}).json()
    assert body["found"] and (body["lon"], body["lat"]) == (114.315, 30.55) and "东社区" in body["label"]


# --- the full cycle through the action forms ---------------------------------------------------------------
def test_full_cycle_through_the_forms(new_case, operator, dispatcher, handler_hw, grid_worker, shift_lead):
    case = new_case(reporter_phone="13812345678")
    steps = [
        (operator, "register", {}, "registered"),
        (dispatcher, "dispatch", {"department": "HW"}, "dispatched"),
        (handler_hw, "accept", {}, "accepted"),
        (handler_hw, "handle", {"result": "已清运"}, "handled"),
        (grid_worker, "verify", {}, "verified"),
        (shift_lead, "close", {}, "closed"),
        (operator, "follow_up", {"note": "市民满意"}, "archived"),
    ]
    for user, action, data, state in steps:
        client = client_for(user)
        page = client.get(f"/cases/{case.code}/").content.decode()
        assert f'id="form-{action}"' in page, (action, user)
        response = act(client, case, action, **data)
        assert response.status_code == 200
        assert Case.objects.get(pk=case.pk).state == state, messages_of(response)
        assert any("已完成" in m for m in messages_of(response))
    page = client_for(operator).get(f"/cases/{case.code}/").content.decode()
    for label in ("上报", "立案", "派遣", "签收", "处置完毕", "核查通过", "结案", "回访满意"):
        assert label in page


def test_refusals_come_back_as_messages(new_case, walk, handler_hw, dispatcher):
    case = walk(new_case(), "accepted")
    response = act(client_for(handler_hw), case, "handle", result="")
    assert Case.objects.get(pk=case.pk).state == "accepted"
    assert response.status_code == 200 and messages_of(response)
    waiting = walk(new_case(point=(114.312, 30.551), description="另一处"), "dispatched")
    response = act(client_for(dispatcher), waiting, "accept")
    assert any("您的角色不能执行" in m for m in messages_of(response))
    response = act(client_for(dispatcher, "en"), waiting, "accept")
    assert any("Your role may not perform" in m for m in messages_of(response))
    response = act(client_for(handler_hw), case, "extend_request", extra_hours="8", reason="等待材料")
    response = act(client_for(handler_hw), Case.objects.get(pk=case.pk), "accept")
    assert any("不能执行" in m for m in messages_of(response))


def test_forms_shown_are_the_users_own(new_case, walk, handler_hw, handler_cg, dispatcher, make_user):
    case = walk(new_case(), "dispatched")
    page = client_for(handler_hw).get(f"/cases/{case.code}/").content.decode()
    assert 'id="form-accept"' in page and 'id="form-return"' in page
    page = client_for(dispatcher).get(f"/cases/{case.code}/").content.decode()
    assert 'id="form-accept"' not in page


def test_return_extend_suspend_and_their_approvals(new_case, walk, handler_hw, dispatcher, shift_lead, operator):
    case = walk(new_case(), "dispatched")
    hw, disp = client_for(handler_hw), client_for(dispatcher)
    act(hw, case, "return", reason="不属本部门")
    assert Case.objects.get(pk=case.pk).state == "returned"
    assert case.code in disp.get("/cases/approvals/").content.decode()
    act(disp, case, "dispatch", department="HW")
    act(hw, case, "accept")
    act(hw, case, "extend_request", extra_hours="4", reason="需要设备")
    assert Case.objects.get(pk=case.pk).state == "extension_requested"
    page = disp.get("/cases/approvals/").content.decode()
    assert "延期申请" in page and case.code in page
    act(disp, case, "extend_approve")
    c = Case.objects.get(pk=case.pk)
    assert c.state == "accepted" and c.extensions == 1
    act(hw, case, "suspend_request", reason="等待产权单位")
    act(disp, case, "suspend_approve")
    assert Case.objects.get(pk=case.pk).state == "suspended"
    act(disp, case, "resume")
    assert Case.objects.get(pk=case.pk).state == "accepted"
    # void: an operator asks, the shift lead approves from the approvals page
    other = new_case(description="重复来电")
    act(client_for(operator), other, "void_request", reason="无效来电")
    lead = client_for(shift_lead)
    assert other.code in lead.get("/cases/approvals/").content.decode()
    act(lead, other, "void_approve")
    assert Case.objects.get(pk=other.pk).state == "voided"


def test_rework_and_reopen(new_case, walk, grid_worker, operator):
    case = walk(new_case(), "handled")
    act(client_for(grid_worker), case, "rework", reason="仍有垃圾")
    c = Case.objects.get(pk=case.pk)
    assert c.state == "accepted" and c.reworks == 1
    case = walk(new_case(point=(114.312, 30.551), description="另一处"), "closed")
    act(client_for(operator), case, "reopen", reason="市民不满意")
    assert Case.objects.get(pk=case.pk).state == "accepted"


def test_check_by_grid_worker(new_case, operator, grid_worker):
    case = new_case()
    act(client_for(operator), case, "ask_check")
    assert Case.objects.get(pk=case.pk).state == "checking"
    assert case.code in client_for(grid_worker).get("/cases/tasks/").content.decode()
    act(client_for(grid_worker), case, "check", found="1")
    assert Case.objects.get(pk=case.pk).state == "reported"


# --- inline (htmx) actions in queues -----------------------------------------------------------------------
def test_htmx_action_answers_with_the_row(new_case, walk, handler_hw):
    case = walk(new_case(), "dispatched")
    client = client_for(handler_hw)
    response = client.post(f"/cases/{case.code}/act/accept/", {"fragment": "row", "next": "/cases/queue/"},
                           HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and body.startswith("<tr") and "处置中" in body and "已完成" in body
    assert "act-handle" in body  # the next step is offered in place
    response = client.post(f"/cases/{case.code}/act/handle/", {"fragment": "row", "result": ""}, HTTP_HX_REQUEST="true")
    assert 'class="notice error"' in response.content.decode()


def test_htmx_verify_answers_with_the_card(new_case, walk, grid_worker):
    case = walk(new_case(), "handled")
    response = client_for(grid_worker).post(f"/cases/{case.code}/act/verify/", {"fragment": "card"}, HTTP_HX_REQUEST="true")
    assert response.content.decode().startswith('<article class="task card"')
    assert Case.objects.get(pk=case.pk).state == "verified"


# --- joint handling ------------------------------------------------------------------------------------------
def test_joint_handling_from_the_queues(new_case, walk, dispatcher, handler_hw, handler_cg):
    case = walk(new_case(), "registered")
    act(client_for(dispatcher), case, "dispatch", department="HW", assisting=["CG"])
    task = CaseTask.objects.get(case=case)
    hw = client_for(handler_hw)
    act(hw, case, "accept")
    queue = hw.get("/cases/queue/").content.decode()
    assert "协办" in queue and "城市管理执法局" in queue
    response = act(hw, case, "handle", result="已处理")
    assert Case.objects.get(pk=case.pk).state == "accepted"
    assert any("协办任务尚未完成" in m for m in messages_of(response))
    cg = client_for(handler_cg)
    assert case.code in cg.get("/cases/queue/").content.decode()  # its sub-task, below the queue
    assert cg.get(f"/cases/{case.code}/").status_code == 200
    cg.post(f"/cases/{case.code}/tasks/{task.pk}/done/", {"result": "已配合执法"})
    assert CaseTask.objects.get(pk=task.pk).state == "done"
    act(hw, case, "handle", result="已处理")
    assert Case.objects.get(pk=case.pk).state == "handled"


def test_consultation_record(new_case, walk, handler_hw):
    case = walk(new_case(), "accepted")
    response = client_for(handler_hw).post(f"/cases/{case.code}/consult/", {
        "meeting_at": "2026-03-02T10:00", "topic": "占道与绿化", "participants": ["HW", "YL"],
        "d1_department": "YL", "d1_text": "修剪行道树", "d1_limit_hours": "8"}, follow=True)
    assert response.status_code == 200
    assert CaseTask.objects.get(case=case).department.code == "YL"
    page = response.content.decode()
    assert "占道与绿化" in page and "修剪行道树" in page


# --- lists: filters, paging, queries -------------------------------------------------------------------------
def test_list_filters_and_paging(new_case, walk, operator, leader):
    for i in range(33):
        new_case(point=(114.31 + i * 0.0001, 30.55), description=f"第{i}号")
    other = new_case(category="E0103", point=POINT_JIANGAN, description="江岸")
    client = client_for(leader)
    first = client.get("/cases/").content.decode()
    assert 'rel="next"' in first
    assert 'rel="prev"' in client.get("/cases/?page=2").content.decode()
    filtered = client.get("/cases/", {"district": "420102"}).content.decode()
    assert other.code in filtered and filtered.count("case-row") == 1
    assert client.get("/cases/", {"category": "E0103"}).content.decode().count("case-row") == 1
    assert client.get("/cases/", {"state": "archived"}).content.decode().count("case-row") == 0
    assert client.get("/cases/", {"overdue": "1"}).status_code == 200
    response = client.get("/cases/", {"from": "2020-01-01", "to": "2099-12-31"})
    assert response.status_code == 200


def test_department_queue_queries_do_not_grow_with_rows(new_case, walk, handler_hw, django_assert_max_num_queries):
    for i in range(12):
        walk(new_case(point=(114.31 + i * 0.0002, 30.55), description=f"#{i}"), "accepted")
    client = client_for(handler_hw)
    client.get("/cases/queue/")
    with django_assert_max_num_queries(12):
        response = client.get("/cases/queue/")
    assert response.content.decode().count("case-row") == 12


# --- evaluation ----------------------------------------------------------------------------------------------
def test_evaluation_page_and_exports(new_case, walk, leader):
    walk(new_case(), "archived")
    client = client_for(leader)
    page = client.get("/cases/evaluation/", {"kind": "departments"}).content.decode()
    assert "环境卫生管理处" in page and "<td>HW</td>" not in page
    assert "样本不足" in page  # one case: no grade (tests/test_evaluation_rules.py)
    from cityops.cases.forms import EvaluationForm

    for kind, _label in EvaluationForm.KINDS:
        assert client.get("/cases/evaluation/", {"kind": kind}).status_code == 200, kind
    csv = client.get("/cases/evaluation/export.csv", {"kind": "departments"})
    assert csv["Content-Type"].startswith("text/csv") and "应处置" in csv.content.decode("utf-8-sig")
    xlsx = client.get("/cases/evaluation/export.xlsx", {"kind": "regions", "level": "district"})
    assert xlsx.content[:2] == b"PK"
    bad = client.get("/cases/evaluation/", {"from": "2026-03-10", "to": "2026-03-01"})
    assert "结束日期早于开始日期" in bad.content.decode()


# --- plain forms, photos, tiered handling, sub-task release ------------------------------------------------
def test_plain_form_from_a_queue_returns_to_the_queue(new_case, walk, handler_hw):
    case = walk(new_case(), "dispatched")
    client = client_for(handler_hw)
    response = client.post(f"/cases/{case.code}/act/accept/", {"next": "/cases/queue/?page=1", "fragment": "row"})
    assert response.status_code == 302 and response["Location"] == "/cases/queue/?page=1"
    assert Case.objects.get(pk=case.pk).state == "accepted"
    response = client.post(f"/cases/{case.code}/act/handle/", {"result": "已清运", "next": "https://evil.example/"})
    assert response["Location"] == f"/cases/{case.code}/"


def test_photos_added_on_the_case_page(new_case, walk, handler_hw):
    case = walk(new_case(), "accepted")
    client = client_for(handler_hw)
    page = client.get(f"/cases/{case.code}/").content.decode()
    assert 'name="kind" value="handled"' in page
    response = client.post(f"/cases/{case.code}/photos/", {"photos": [jpeg(), jpeg((0, 0, 200))], "kind": "handled"}, follow=True)
    assert any("已上传 2 张照片" in m for m in messages_of(response))
    assert list(case.photos.values_list("kind", flat=True)) == ["handled", "handled"]
    assert response.content.decode().count("<figure>") == 2


def test_community_claims_and_escalates_from_the_list(new_case, walk, community_staff, street_staff):
    case = walk(new_case(), "registered")
    client = client_for(community_staff)
    listing = client.get("/cases/").content.decode()
    assert case.code in listing and "act-claim" in listing
    act(client, case, "claim")
    c = Case.objects.get(pk=case.pk)
    assert c.state == "accepted" and c.level == "community"
    act(client, c, "escalate", reason="需要街道协调")
    c = Case.objects.get(pk=case.pk)
    assert c.state == "registered" and c.level == "street"
    assert "act-claim" not in client.get("/cases/").content.decode()  # no longer at its level
    assert "act-claim" in client_for(street_staff).get("/cases/").content.decode()


def test_lead_department_releases_a_sub_task(new_case, walk, dispatcher, handler_hw, handler_cg):
    case = walk(new_case(), "registered")
    act(client_for(dispatcher), case, "dispatch", department="HW", assisting=["CG"])
    task = CaseTask.objects.get(case=case)
    assert f"/tasks/{task.pk}/release/" in client_for(handler_hw).get(f"/cases/{case.code}/").content.decode()
    cg_page = client_for(handler_cg).get(f"/cases/{case.code}/").content.decode()
    assert f"/tasks/{task.pk}/done/" in cg_page and f"/tasks/{task.pk}/release/" not in cg_page
    response = client_for(handler_hw).post(f"/cases/{case.code}/tasks/{task.pk}/release/", {"reason": "无需协办"}, follow=True)
    assert any("协办任务已免除" in m for m in messages_of(response))
    assert CaseTask.objects.get(pk=task.pk).state == "released"
    assert client_for(handler_hw).post(f"/cases/{case.code}/tasks/999999/done/", {"result": "x"}).status_code == 404


def test_every_workflow_action_has_a_form():
    # Every action a person takes has its form on the page, made from its input or named by the transition.
    from cityops.core import actions

    for t in actions.person_actions(Case.workflow):
        case = Case(state=t.sources[0])
        form = actions.action_form(case, t) if t.action != "dispatch" else None
        assert t.hook is not None, t.action
        if form is not None:
            assert set(form.fields) <= set(actions.action_input(t).model_fields), t.action


def test_the_case_page_is_titled_case_in_english(new_case, operator):
    """One case's page says "Case", the list "Cases" (issue 13, English UI)."""
    case = new_case()
    english = client_for(operator, "en").get(f"/cases/{case.code}/").content.decode()
    assert f"<title>Case {case.code}" in english
    chinese = client_for(operator).get(f"/cases/{case.code}/").content.decode()
    assert f"<title>案件 {case.code}" in chinese
