"""Who sees evaluation (RULES.md §1; issue 10 §4): leader and supervisor see everything; a department sees the
department ranking and the rows of its own staff; every staff member sees their own row; named scores of staff
are never shown to other units — in the API, the page and the exports alike."""

import pytest
from django.test import Client

from cityops.cases import services as s
from cityops.cases.tests.conftest import POINT_JIANGAN, POINT_WUCHANG_A
from cityops.core import roles

pytestmark = pytest.mark.django_db
PERIOD = {"from": "2000-01-01", "to": "2100-01-01"}
KINDS = ("departments", "dispatchers", "shift_leads", "field_workers", "regions", "hotline")


@pytest.fixture
def people(reference, make_user, operator, dispatcher, shift_lead, handler_hw, leader, resident):
    """Two dispatchers and two grid workers with names; one grid worker belongs to HW's staff. Cases in both
    districts, dispatched to HW and CG by each dispatcher, verified by each worker."""
    wang = make_user("disp_wang", roles.DISPATCHER, first_name="王调度")
    hw_worker = make_user("gw_hw", roles.GRID_WORKER, first_name="李网格", org_units=["HW"], region_codes=["420106"])
    other_worker = make_user("gw_other", roles.GRID_WORKER, first_name="赵网格", region_codes=["420102"])
    for point, who, dept, worker, handler in (
        (POINT_WUCHANG_A, dispatcher, "HW", hw_worker, handler_hw),
        (POINT_JIANGAN, wang, "CG", other_worker, make_user("t_dept_cg2", roles.DEPT_HANDLER, org_units=["CG"])),
    ):
        case = s.case_create(actor=operator, category="E0101", lon=point[0], lat=point[1], description="x").case
        case = s.case_register(case=case, actor=operator)
        case = s.case_dispatch(case=case, actor=who, department=dept)
        case = s.case_accept(case=case, actor=handler)
        case = s.case_handle(case=case, actor=handler, result="ok")
        s.case_verify(case=case, actor=worker, passed=True)
    return {
        "leader": leader, "supervisor": make_user("t_supervisor", roles.SUPERVISOR),
        "hw_lead": make_user("t_dept_lead_hw", roles.DEPT_LEAD, org_units=["HW"]), "handler_hw": handler_hw,
        "dispatcher": dispatcher, "wang": wang, "hw_worker": hw_worker, "other_worker": other_worker,
        "operator": operator, "resident": resident,
    }


def api_rows(api_client_for, user, kind):
    r = api_client_for(user).get(f"/api/v1/evaluation/{kind}", PERIOD)
    return r.status_code, (r.json()["rows"] if r.status_code == 200 else r.json())


def names(rows):
    return {r.get("name") or r.get("department") for r in rows}


def test_leader_and_supervisor_see_everything(people, api_client_for):
    for who in ("leader", "supervisor"):
        for kind in KINDS:
            status, rows = api_rows(api_client_for, people[who], kind)
            assert status == 200, (who, kind)
        assert {"王调度", "t_dispatcher"} <= names(api_rows(api_client_for, people[who], "dispatchers")[1])
        assert {"李网格", "赵网格"} <= names(api_rows(api_client_for, people[who], "field_workers")[1])


def test_a_department_sees_the_ranking_and_its_own_staff(people, api_client_for):
    lead = people["hw_lead"]
    assert {"HW", "CG"} <= {r["department"] for r in api_rows(api_client_for, lead, "departments")[1]}
    assert api_rows(api_client_for, lead, "hotline")[0] == 200
    assert names(api_rows(api_client_for, lead, "field_workers")[1]) == {"李网格"}  # HW's worker, not 赵网格
    assert api_rows(api_client_for, lead, "dispatchers")[1] == []  # dispatchers are not HW's staff
    status, body = api_rows(api_client_for, lead, "regions")
    assert status == 403 and body["code"] == "role_not_allowed" and body["message_en"]
    # A handler of the department: the department ranking, and their own row only (they have none).
    handler = people["handler_hw"]
    assert {"HW", "CG"} <= {r["department"] for r in api_rows(api_client_for, handler, "departments")[1]}
    assert api_rows(api_client_for, handler, "field_workers")[1] == []


def test_staff_see_their_own_row_only(people, api_client_for):
    assert names(api_rows(api_client_for, people["dispatcher"], "dispatchers")[1]) == {"t_dispatcher"}
    assert names(api_rows(api_client_for, people["wang"], "dispatchers")[1]) == {"王调度"}
    assert names(api_rows(api_client_for, people["other_worker"], "field_workers")[1]) == {"赵网格"}
    for kind in ("departments", "regions", "hotline"):
        assert api_rows(api_client_for, people["dispatcher"], kind)[0] == 403, kind
    assert api_rows(api_client_for, people["dispatcher"], "field_workers")[1] == []
    for kind in KINDS:
        assert api_rows(api_client_for, people["resident"], kind)[0] == 403, kind


def test_exports_carry_no_other_units_named_scores(people, api_client_for):
    me = api_client_for(people["dispatcher"])
    for fmt in ("csv", "xlsx"):
        r = me.get("/api/v1/evaluation/dispatchers", {**PERIOD, "format": fmt})
        assert r.status_code == 200
        text = r.content.decode() if fmt == "csv" else _xlsx_text(r.content)
        assert "t_dispatcher" in text and "王调度" not in text and "disp_wang" not in text
    lead = Client()
    lead.force_login(people["hw_lead"])
    csv = lead.get("/cases/evaluation/export.csv", {"kind": "field_workers", **PERIOD}).content.decode()
    assert "李网格" in csv and "赵网格" not in csv
    xlsx = lead.get("/cases/evaluation/export.xlsx", {"kind": "field_workers", **PERIOD}).content
    assert "李网格" in _xlsx_text(xlsx) and "赵网格" not in _xlsx_text(xlsx)
    assert lead.get("/cases/evaluation/export.csv", {"kind": "regions", **PERIOD}).status_code == 403


def test_the_page_shows_what_the_viewer_may_see(people):
    web = Client()
    web.force_login(people["wang"])
    page = web.get("/cases/evaluation/", PERIOD)  # no kind asked: the first the viewer may see
    text = page.content.decode()
    assert page.status_code == 200 and "王调度" in text and "t_dispatcher" not in text
    assert "?kind=departments" not in text and "?kind=dispatchers" in text  # only the tabs they may open
    assert web.get("/cases/evaluation/", {"kind": "departments", **PERIOD}).status_code == 403
    web.force_login(people["hw_worker"])
    text = web.get("/cases/evaluation/", {"kind": "field_workers", **PERIOD}).content.decode()
    assert "李网格" in text and "赵网格" not in text
    web.force_login(people["resident"])
    assert web.get("/cases/evaluation/").status_code == 403


def _xlsx_text(data: bytes) -> str:
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data)).active
    return " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)
